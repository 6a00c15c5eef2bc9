import { TRACE_PROPAGATION_FORMATS, type MeshTracing } from '../../../policy/schema/mesh.ts';

export type PropagationFormat = (typeof TRACE_PROPAGATION_FORMATS)[number];

/** Everything the tracer needs, after the Mesh `tracing` section and the standard `OTEL_*` variables are merged. */
export type OtlpProtocol = 'http/protobuf' | 'grpc';

/** Where a collector listens by default, per OTLP transport. */
export const DEFAULT_OTLP_ENDPOINTS: Record<OtlpProtocol, string> = { 'http/protobuf': 'http://127.0.0.1:4318/v1/traces', grpc: 'http://127.0.0.1:4317' };

export interface TracingSettings {
  protocol: OtlpProtocol;
  /** OTLP/HTTP traces URL (`http://127.0.0.1:4318/v1/traces`) or OTLP/gRPC collector address (`http://127.0.0.1:4317`). */
  endpoint: string;
  headers: Record<string, string>;
  /** Probability (0..1) that a request without a sampled parent starts a trace. */
  ratio: number;
  propagation: PropagationFormat[];
  serviceName: string;
  /** Batch span processor: how long spans wait before export, and how many may wait at most. */
  scheduledDelayMs: number;
  maxQueueSize: number;
  maxExportBatchSize: number;
  /** One export's time limit: short, so a dead collector never holds anything for long. */
  exportTimeoutMs: number;
}

export interface ResolvedTracing {
  /** Undefined when tracing is off. */
  settings: TracingSettings | undefined;
  /** Environment values that were ignored, and why. */
  warnings: string[];
}

const DEFAULTS = { scheduledDelayMs: 1_000, maxQueueSize: 2_048, maxExportBatchSize: 512, exportTimeoutMs: 2_000 };

/**
 * Merges the Mesh `tracing` section with the OpenTelemetry environment variables, which win where both say
 * something (the environment is per process, the Mesh is mesh-wide): OTEL_SDK_DISABLED, OTEL_TRACES_EXPORTER=none,
 * OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT / _HEADERS / _PROTOCOL (http/protobuf or grpc) / _INSECURE / _TIMEOUT, OTEL_TRACES_SAMPLER_ARG, OTEL_PROPAGATORS,
 * OTEL_SERVICE_NAME, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE.
 */
export function resolveTracing(mesh: MeshTracing, service: string, env: NodeJS.ProcessEnv = process.env): ResolvedTracing {
  const warnings: string[] = [];
  const value = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  if (!mesh.enabled) return { settings: undefined, warnings };
  if (value('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') return { settings: undefined, warnings: ['OTEL_SDK_DISABLED=true: tracing is off'] };
  const exporter = value('OTEL_TRACES_EXPORTER');
  if (exporter === 'none') return { settings: undefined, warnings: ['OTEL_TRACES_EXPORTER=none: tracing is off'] };
  if (exporter !== undefined && exporter !== 'otlp') warnings.push(`OTEL_TRACES_EXPORTER=${exporter} ignored: only otlp is supported`);

  let protocol: OtlpProtocol = mesh.otlp.protocol;
  const protocolVariable = value('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? value('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (protocolVariable === 'grpc' || protocolVariable === 'http/protobuf') protocol = protocolVariable;
  else if (protocolVariable !== undefined) warnings.push(`OTLP protocol "${protocolVariable}" is not supported; using ${protocol} (supported: http/protobuf, grpc)`);

  // The Mesh's endpoint belongs to the Mesh's protocol: when the environment switches protocol, it is not reused.
  let configured = DEFAULT_OTLP_ENDPOINTS[protocol];
  if (mesh.otlp.endpoint !== undefined && protocol === mesh.otlp.protocol) configured = mesh.otlp.endpoint;
  else if (mesh.otlp.endpoint !== undefined) warnings.push(`OTLP endpoint "${mesh.otlp.endpoint}" is for ${mesh.otlp.protocol}; using ${configured} for ${protocol}`);
  let endpoint = configured;
  const tracesEndpoint = value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const baseEndpoint = value('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint !== undefined) endpoint = tracesEndpoint;
  // The specification appends the signal's path for OTLP/HTTP only; a gRPC endpoint is used as it is.
  else if (baseEndpoint !== undefined) endpoint = protocol === 'grpc' ? baseEndpoint : `${baseEndpoint}${baseEndpoint.endsWith('/') ? '' : '/'}v1/traces`;
  if (protocol === 'grpc' && /^[^/:]+:\d+$/.test(endpoint)) {
    // gRPC clients take `host:port`; `_INSECURE` says whether that means plaintext (the default is TLS).
    const insecure = (value('OTEL_EXPORTER_OTLP_TRACES_INSECURE') ?? value('OTEL_EXPORTER_OTLP_INSECURE'))?.toLowerCase() === 'true';
    endpoint = `${insecure ? 'http' : 'https'}://${endpoint}`;
  }
  if (!/^https?:\/\//.test(endpoint)) {
    warnings.push(`OTLP endpoint "${endpoint}" ignored: it must be an http(s) URL${protocol === 'grpc' ? ' or host:port' : ''}`);
    endpoint = configured;
  }

  const headers: Record<string, string> = {};
  for (const { name, value: v } of mesh.otlp.headers) headers[name.toLowerCase()] = v;
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) {
    const text = value(variable);
    if (text !== undefined) Object.assign(headers, parseHeaderList(text, variable, warnings));
  }

  let ratio = mesh.sampling.percentage / 100;
  const samplerArg = value('OTEL_TRACES_SAMPLER_ARG');
  if (samplerArg !== undefined) {
    const parsed = Number(samplerArg);
    if (Number.isFinite(parsed) && parsed >= 0 && parsed <= 1) ratio = parsed;
    else warnings.push(`OTEL_TRACES_SAMPLER_ARG="${samplerArg}" ignored: expected a ratio between 0 and 1`);
  }

  let propagation: PropagationFormat[] = [...mesh.propagation];
  const propagators = value('OTEL_PROPAGATORS');
  if (propagators !== undefined) {
    const names = propagators.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const known = names.filter((n): n is PropagationFormat => (TRACE_PROPAGATION_FORMATS as readonly string[]).includes(n));
    for (const n of names) if (!known.includes(n as PropagationFormat) && n !== 'none') warnings.push(`OTEL_PROPAGATORS: "${n}" is not supported and ignored`);
    propagation = [...new Set(known)];
  }

  const int = (name: string, fallback: number, min: number): number => {
    const text = value(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (Number.isInteger(n) && n >= min) return n;
    warnings.push(`${name}="${text}" ignored: expected an integer ≥ ${min}`);
    return fallback;
  };
  const maxQueueSize = int('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULTS.maxQueueSize, 1);
  return {
    settings: {
      protocol,
      endpoint,
      headers,
      ratio,
      propagation,
      serviceName: value('OTEL_SERVICE_NAME') ?? service,
      scheduledDelayMs: int('OTEL_BSP_SCHEDULE_DELAY', DEFAULTS.scheduledDelayMs, 0),
      maxQueueSize,
      maxExportBatchSize: Math.min(maxQueueSize, int('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULTS.maxExportBatchSize, 1)),
      exportTimeoutMs: int('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', int('OTEL_EXPORTER_OTLP_TIMEOUT', DEFAULTS.exportTimeoutMs, 1), 1),
    },
    warnings,
  };
}

/** `key1=value1,key2=value2` with percent-encoded values, as OTEL_EXPORTER_OTLP_HEADERS is specified. */
export function parseHeaderList(text: string, variable: string, warnings: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq === -1 ? '' : pair.slice(0, eq).trim().toLowerCase();
    if (key === '') {
      warnings.push(`${variable}: entry without a name ignored`);
      continue;
    }
    try {
      out[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      warnings.push(`${variable}: value of "${key}" is not valid percent-encoding; ignored`);
    }
  }
  return out;
}
