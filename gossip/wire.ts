import { CodecError, decodePacket, decodeStream, encodePacket, encodeStream } from './codec.ts';
import { SEAL_OVERHEAD, type Keyring } from './keyring.ts';
import type { PacketMessage, StreamMessage } from './messages.ts';

export type Opened<T> = { ok: true; message: T } | { ok: false; reason: 'unauthenticated' | 'malformed' };

/**
 * Encoding plus, with a keyring, encryption of everything a member sends, and the reverse on receipt. Without a
 * keyring messages travel in the clear; with one, anything that does not authenticate under the cluster label is
 * dropped before the decoder sees it.
 */
export class Wire {
  private readonly keyring: Keyring | undefined;
  private readonly label: string;

  constructor(keyring: Keyring | undefined, label: string) {
    this.keyring = keyring;
    this.label = label;
  }

  get overhead(): number {
    return this.keyring ? SEAL_OVERHEAD : 0;
  }

  seal(encoded: Uint8Array): Uint8Array {
    return this.keyring ? this.keyring.seal(encoded, this.label) : encoded;
  }

  encodeStream(message: StreamMessage): Uint8Array {
    return this.seal(encodeStream(message));
  }

  encodePacket(message: PacketMessage): Uint8Array {
    return encodePacket(message);
  }

  openPacket(data: Uint8Array): Opened<PacketMessage> {
    const plain = this.open(data);
    if (!plain) return { ok: false, reason: 'unauthenticated' };
    return decodeSafely(() => decodePacket(plain));
  }

  /** Decodes one part of a compound packet: already decrypted with its envelope. */
  decodePart(part: Uint8Array): Opened<PacketMessage> {
    return decodeSafely(() => decodePacket(part));
  }

  openStream(data: Uint8Array): Opened<StreamMessage> {
    const plain = this.open(data);
    if (!plain) return { ok: false, reason: 'unauthenticated' };
    return decodeSafely(() => decodeStream(plain));
  }

  private open(data: Uint8Array): Uint8Array | undefined {
    return this.keyring ? this.keyring.open(data, this.label) : data;
  }
}

function decodeSafely<T>(decode: () => T): Opened<T> {
  try {
    return { ok: true, message: decode() };
  } catch (error) {
    if (error instanceof CodecError) return { ok: false, reason: 'malformed' };
    throw error;
  }
}
