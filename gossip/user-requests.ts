import type { StreamMessage } from './messages.ts';
import type { Transport } from './transport.ts';
import type { Wire } from './wire.ts';

export type RequestHandler = (from: string, body: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** Application requests riding the gossip stream port: sent to a member by address, served by handlers per `kind`. */
export class UserRequests {
  private readonly handlers = new Map<string, RequestHandler>();
  private readonly wire: Wire;
  private readonly transport: Transport;

  constructor(wire: Wire, transport: Transport) {
    this.wire = wire;
    this.transport = transport;
  }

  handle(kind: string, handler: RequestHandler): void {
    this.handlers.set(kind, handler);
  }

  request(addr: string, kind: string, body: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      this.transport.request(addr, this.wire.encodeStream({ type: 'user-request', kind, body }), timeoutMs, (error, reply) => {
        if (error || !reply) return reject(error ?? new Error('no reply'));
        const opened = this.wire.openStream(reply);
        if (!opened.ok) return reject(new Error(`reply from ${addr} was ${opened.reason}`));
        const message = opened.message;
        if (message.type !== 'user-response') return reject(new Error(`unexpected ${message.type} reply from ${addr}`));
        if (!message.ok) return reject(new Error(new TextDecoder().decode(message.body)));
        resolve(message.body);
      });
    });
  }

  serve(from: string, kind: string, body: Uint8Array, reply: (data: Uint8Array) => void): void {
    const handler = this.handlers.get(kind);
    const answer = (message: StreamMessage): void => reply(this.wire.encodeStream(message));
    const fail = (text: string): void => answer({ type: 'user-response', ok: false, body: new TextEncoder().encode(text) });
    if (!handler) return fail(`no handler for ${kind}`);
    Promise.resolve()
      .then(() => handler(from, body))
      .then(
        (result) => answer({ type: 'user-response', ok: true, body: result }),
        (error: unknown) => fail(error instanceof Error ? error.message : String(error)),
      );
  }
}
