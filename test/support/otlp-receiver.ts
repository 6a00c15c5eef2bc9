import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

/** The official OTLP definitions (test/support/opentelemetry-proto/), compiled at load time with protobufjs. */
const PROTO_ROOT = fileURLToPath(new URL('./opentelemetry-proto/', import.meta.url));
const root = new protobuf.Root();
root.resolvePath = (_origin, target) => (target.startsWith('/') ? target : PROTO_ROOT + target);
root.loadSync('opentelemetry/proto/collector/trace/v1/trace_service.proto', { keepCase: false });
const ExportTraceServiceRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ExportTraceServiceResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');

export type AttributeValue = string | number | boolean | AttributeValue[] | undefined;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  kind: 'UNSPECIFIED' | 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';
  attributes: Record<string, AttributeValue>;
  events: { name: string; attributes: Record<string, AttributeValue> }[];
  status: { code: 'UNSET' | 'OK' | 'ERROR'; message: string };
  /** The resource's attributes (service.name, …). */
  resource: Record<string, AttributeValue>;
  startNs: bigint;
  endNs: bigint;
}

export interface OtlpReceiver {
  port: number;
  /** What a sidecar's `otlp.endpoint` names: `http://127.0.0.1:PORT/v1/traces` over HTTP, `http://127.0.0.1:PORT` over gRPC. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Request headers of each export, in order. */
  exports: { headers: Record<string, string | string[] | undefined>; contentType: string | undefined }[];
  /** Resolves once `predicate` holds for the collected spans, or rejects after `timeoutMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  clear(): void;
  close(): Promise<void>;
}

const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const;
const STATUS = ['UNSET', 'OK', 'ERROR'] as const;

interface PlainAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: PlainAnyValue[] };
}
interface PlainKeyValue {
  key: string;
  value?: PlainAnyValue;
}
interface PlainSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  attributes?: PlainKeyValue[];
  events?: { name?: string; attributes?: PlainKeyValue[] }[];
  status?: { code?: number; message?: string };
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
}
interface PlainRequest {
  resourceSpans?: { resource?: { attributes?: PlainKeyValue[] }; scopeSpans?: { spans?: PlainSpan[] }[] }[];
}

function value(v: PlainAnyValue | undefined): AttributeValue {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(value);
  return undefined;
}

function attributes(list: PlainKeyValue[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) out[kv.key] = value(kv.value);
  return out;
}

/** Decodes one OTLP/HTTP protobuf export body into flat spans with hex ids. */
export function decodeExport(body: Uint8Array): ReceivedSpan[] {
  const message = ExportTraceServiceRequest.decode(body);
  const plain = ExportTraceServiceRequest.toObject(message, { longs: String, bytes: String, enums: Number, defaults: false, arrays: true }) as PlainRequest;
  const hex = (b64: string | undefined): string => Buffer.from(b64 ?? '', 'base64').toString('hex');
  const spans: ReceivedSpan[] = [];
  for (const rs of plain.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        spans.push({
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: hex(s.parentSpanId),
          name: s.name ?? '',
          kind: KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
          attributes: attributes(s.attributes),
          events: (s.events ?? []).map((e) => ({ name: e.name ?? '', attributes: attributes(e.attributes) })),
          status: { code: STATUS[s.status?.code ?? 0] ?? 'UNSET', message: s.status?.message ?? '' },
          resource,
          startNs: BigInt(s.startTimeUnixNano ?? '0'),
          endNs: BigInt(s.endTimeUnixNano ?? '0'),
        });
      }
    }
  }
  return spans;
}

/** Reply to an export: an empty ExportTraceServiceResponse (everything accepted). */
export function encodeExportResponse(): Uint8Array {
  return ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create({})).finish();
}

/** The spans and exports a receiver collected, and waiting on them; shared by the HTTP and gRPC receivers. */
export function spanCollector(): Pick<OtlpReceiver, 'spans' | 'exports' | 'waitFor' | 'clear'> & { received(spans: ReceivedSpan[], exported: OtlpReceiver['exports'][number]): void } {
  const spans: ReceivedSpan[] = [];
  const exportsSeen: OtlpReceiver['exports'] = [];
  const waiters = new Set<() => void>();
  return {
    spans,
    exports: exportsSeen,
    received(batch, exported) {
      spans.push(...batch);
      exportsSeen.push(exported);
      for (const wake of waiters) wake();
    },
    waitFor(predicate, timeoutMs = 5_000) {
      if (predicate(spans)) return Promise.resolve(spans);
      return new Promise((resolve, reject) => {
        const wake = (): void => {
          if (!predicate(spans)) return;
          cleanup();
          resolve(spans);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`OTLP receiver: condition not met in ${timeoutMs} ms; got ${spans.length} spans: ${spans.map((s) => `${s.kind} ${s.name}`).join(', ')}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
    clear() {
      spans.length = 0;
      exportsSeen.length = 0;
    },
  };
}

/** An OTLP/HTTP traces receiver on a loopback port, as a collector or Jaeger v2 would listen on 4318. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const collector = spanCollector();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces') {
        res.writeHead(404).end();
        return;
      }
      const contentType = req.headers['content-type'];
      if (contentType !== 'application/x-protobuf') {
        res.writeHead(415).end();
        return;
      }
      let batch: ReceivedSpan[];
      try {
        batch = decodeExport(Buffer.concat(chunks));
      } catch (error) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error));
        return;
      }
      const reply = encodeExportResponse();
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': reply.length }).end(Buffer.from(reply));
      collector.received(batch, { headers: { ...req.headers }, contentType });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/v1/traces`,
    spans: collector.spans,
    exports: collector.exports,
    waitFor: collector.waitFor,
    clear: collector.clear,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
