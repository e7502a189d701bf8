import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/** Whether two secrets are equal, compared in constant time over fixed-length digests. */
export const sameSecret = (expected: string, presented: string): boolean => timingSafeEqual(digest(expected), digest(presented));

/**
 * The configured key matching `presented`, compared in constant time: every key is compared
 * (no early exit) over fixed-length digests, so timing tells nothing about how much matched.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const presentedDigest = digest(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(keyDigest(key), presentedDigest) && found === undefined) found = key;
  }
  return found;
}

/** Each configured key's digest, made once (the config's key objects live as long as the app). */
const keyDigests = new WeakMap<ApiKey, Buffer>();
function keyDigest(key: ApiKey): Buffer {
  let known = keyDigests.get(key);
  if (!known) {
    known = digest(key.key);
    keyDigests.set(key, known);
  }
  return known;
}

/** The token of an `Authorization: Bearer TOKEN` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
