import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../mesh/log.ts';
import type { InjectorConfig } from './injection/config.ts';
import { createWebhookServer } from './injection/webhook-server.ts';

export interface SecureServerOptions {
  tls: { certFile: string; keyFile: string };
  host: string;
  port: number;
  injector: InjectorConfig;
  /** Routes served beside the webhook on the same port: the external metrics API. */
  routes: (req: IncomingMessage, res: ServerResponse) => boolean;
  log: Logger;
  /** How often the certificate files are re-read (cert-manager rotates them in place). */
  reloadMs?: number;
}

export interface SecureServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTPS port the Kubernetes API server calls: the sidecar injection webhook and the aggregated external metrics
 * API. The certificate files are re-read periodically, so a rotated certificate is served without a restart.
 */
export async function startSecureServer(options: SecureServerOptions): Promise<SecureServer> {
  const read = (): { cert: string; key: string } => ({ cert: readFileSync(options.tls.certFile, 'utf8'), key: readFileSync(options.tls.keyFile, 'utf8') });
  let current = read();
  const server = createWebhookServer({
    tls: current,
    config: options.injector,
    // Called only by the pod opt-in webhook entry, whose selector excludes opted-in namespaces.
    namespaceLabels: () => ({}),
    log: options.log,
    extraRoutes: options.routes,
  });
  const reload = setInterval(() => {
    try {
      const next = read();
      if (next.cert === current.cert && next.key === current.key) return;
      server.setSecureContext(next);
      current = next;
      options.log.info('reloaded the TLS certificate', { cert: options.tls.certFile });
    } catch (error) {
      options.log.warn('cannot reload the TLS certificate; serving the previous one', { error: String(error) });
    }
  }, options.reloadMs ?? 30_000);
  reload.unref();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(reload);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
