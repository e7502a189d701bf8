import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * channels_redis's `symmetric_encryption_keys`: a `MultiFernet` over one `Fernet` per key, each
 * key being `urlsafe_b64encode(sha256(key))` (core.py, `make_fernet`). Encryption uses the first
 * key, decryption tries each in turn, so keys rotate by putting the new one first.
 *
 * A Fernet token (https://github.com/fernet/spec) is base64url of
 * `0x80 | timestamp (8 bytes, seconds) | IV (16) | AES-128-CBC ciphertext | HMAC-SHA256 (32)`,
 * signed with the first half of the 32-byte key and encrypted with the second.
 */

const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const MAC_BYTES = 32;
/** Fernet refuses tokens stamped further in the future than this (cryptography's `_MAX_CLOCK_SKEW`). */
const MAX_CLOCK_SKEW_S = 60;

interface FernetKey {
  signing: Buffer;
  encryption: Buffer;
}

export class InvalidToken extends Error {
  constructor(reason: string) {
    super(`not a Fernet token of these keys: ${reason}`);
    this.name = 'InvalidToken';
  }
}

export class MultiFernet {
  private readonly keys: FernetKey[];

  /** `secrets` as written in the Django settings; each is hashed as channels_redis does. */
  constructor(secrets: readonly string[]) {
    if (secrets.length === 0) throw new Error('MultiFernet needs at least one key');
    this.keys = secrets.map((secret) => {
      const raw = createHash('sha256').update(secret, 'utf8').digest();
      return { signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
    });
  }

  encrypt(data: Uint8Array, now = Date.now()): Buffer {
    const { signing, encryption } = this.keys[0]!;
    const iv = randomBytes(16);
    const header = Buffer.alloc(HEADER_BYTES);
    header[0] = VERSION;
    header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
    iv.copy(header, 9);
    const cipher = createCipheriv('aes-128-cbc', encryption, iv);
    const body = Buffer.concat([header, cipher.update(data), cipher.final()]);
    const mac = createHmac('sha256', signing).update(body).digest();
    return Buffer.from(Buffer.concat([body, mac]).toString('base64url').padEnd(Math.ceil((body.length + MAC_BYTES) / 3) * 4, '='), 'latin1');
  }

  /** The plaintext of `token`, refused when older than `ttlSeconds` or signed by none of the keys. */
  decrypt(token: Uint8Array, ttlSeconds: number, now = Date.now()): Buffer {
    const bytes = Buffer.from(Buffer.from(token).toString('latin1'), 'base64url');
    if (bytes.length < HEADER_BYTES + 16 + MAC_BYTES || bytes[0] !== VERSION) throw new InvalidToken('malformed');
    const stamp = Number(bytes.readBigUInt64BE(1));
    const nowSeconds = Math.floor(now / 1000);
    const body = bytes.subarray(0, bytes.length - MAC_BYTES);
    const mac = bytes.subarray(bytes.length - MAC_BYTES);
    for (const { signing, encryption } of this.keys) {
      if (!timingSafeEqual(createHmac('sha256', signing).update(body).digest(), mac)) continue;
      if (stamp + ttlSeconds < nowSeconds) throw new InvalidToken('expired');
      if (nowSeconds + MAX_CLOCK_SKEW_S < stamp) throw new InvalidToken('stamped in the future');
      const decipher = createDecipheriv('aes-128-cbc', encryption, body.subarray(9, HEADER_BYTES));
      try {
        return Buffer.concat([decipher.update(body.subarray(HEADER_BYTES)), decipher.final()]);
      } catch {
        throw new InvalidToken('bad padding');
      }
    }
    throw new InvalidToken('signature');
  }
}
