import { randomBytes } from 'node:crypto';
import { decode, encode } from '@msgpack/msgpack';
import { MultiFernet } from './fernet.js';

/**
 * channels_redis's message bytes, both layers (`serialize` / `deserialize` in core.py and
 * pubsub.py): msgpack with bin types (`use_bin_type=True`; strings are str, bytes are bin),
 * Fernet when the layer has `symmetric_encryption_keys`, and on the core layer 12 random bytes
 * in front, so that two equal messages are two members of the channel's sorted set.
 */

/** core.py: "we need to guarantee uniqueness, with 12 bytes". */
export const RANDOM_PREFIX_BYTES = 12;
/** Seconds a core-layer message lives in its channel (`expiry`, channels_redis's default). */
export const LAYER_EXPIRY_S = 60;

export type LayerMessage = Record<string, unknown>;

export class UndecodableMessage extends Error {
  constructor(
    readonly reason: 'not_msgpack' | 'not_a_map' | 'not_decrypted',
    detail: string,
  ) {
    super(detail);
    this.name = 'UndecodableMessage';
  }
}

export class LayerCodec {
  private readonly crypter: MultiFernet | undefined;

  constructor(
    encryptionKeys: readonly string[],
    /** RANDOM_PREFIX_BYTES for the core layer, 0 for pubsub. */
    private readonly prefixBytes: number,
  ) {
    this.crypter = encryptionKeys.length > 0 ? new MultiFernet(encryptionKeys) : undefined;
  }

  serialize(message: LayerMessage): Buffer {
    let value: Uint8Array = encode(message, { ignoreUndefined: true });
    if (this.crypter) value = this.crypter.encrypt(value);
    if (this.prefixBytes === 0) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    return Buffer.concat([randomBytes(this.prefixBytes), value]);
  }

  /** The message a layer member carries; throws UndecodableMessage for anything that is not one. */
  deserialize(bytes: Buffer): LayerMessage {
    let value: Uint8Array = bytes.subarray(this.prefixBytes);
    if (this.crypter) {
      try {
        value = this.crypter.decrypt(value, LAYER_EXPIRY_S + 10);
      } catch (error) {
        throw new UndecodableMessage('not_decrypted', (error as Error).message);
      }
    }
    let message: unknown;
    try {
      message = decode(value);
    } catch (error) {
      throw new UndecodableMessage('not_msgpack', (error as Error).message);
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message) || message instanceof Uint8Array) {
      throw new UndecodableMessage('not_a_map', `a msgpack ${Array.isArray(message) ? 'array' : typeof message}, not a map`);
    }
    return message as LayerMessage;
  }

  /** The random prefix of a core-layer member, as hex: unique per message and per channel key. */
  static memberId(bytes: Buffer): string {
    return bytes.subarray(0, RANDOM_PREFIX_BYTES).toString('hex');
  }
}
