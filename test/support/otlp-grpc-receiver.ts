import { Server, ServerCredentials, type ServiceDefinition, type UntypedHandleCall } from '@grpc/grpc-js';
import { decodeExport, encodeExportResponse, spanCollector, type OtlpReceiver } from './otlp-receiver.ts';

/** `opentelemetry.proto.collector.trace.v1.TraceService`, with bodies decoded by the same protobuf code as OTLP/HTTP. */
const TRACE_SERVICE: ServiceDefinition = {
  Export: {
    path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
    requestStream: false,
    responseStream: false,
    requestSerialize: (body: Buffer) => body,
    requestDeserialize: (body: Buffer) => body,
    responseSerialize: (reply: Uint8Array) => Buffer.from(reply),
    responseDeserialize: (body: Buffer) => body,
  },
};

/** An OTLP/gRPC traces receiver on a loopback port (plaintext), as a collector or Jaeger would listen on 4317. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const collector = spanCollector();
  const server = new Server();
  const exportCall: UntypedHandleCall = (call: { request: Buffer; metadata: { getMap(): Record<string, unknown> } }, callback: (error: Error | null, reply?: Uint8Array) => void) => {
    try {
      const batch = decodeExport(call.request);
      callback(null, encodeExportResponse());
      collector.received(batch, { headers: call.metadata.getMap() as Record<string, string>, contentType: 'application/grpc' });
    } catch (error) {
      callback(error as Error);
    }
  };
  server.addService(TRACE_SERVICE, { Export: exportCall });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    port,
    endpoint: `http://127.0.0.1:${port}`,
    spans: collector.spans,
    exports: collector.exports,
    waitFor: collector.waitFor,
    clear: collector.clear,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
