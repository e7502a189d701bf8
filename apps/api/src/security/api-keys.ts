import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../config.js';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * The configured key matching `presented`, compared in constant time: every key is compared
 * (no early exit) over fixed-length digests, so timing tells nothing about how much matched.
 */
export function findApiKey(keys: readonly ApiKey[], presented: string): ApiKey | undefined {
  const candidate = digest(presented);
  let found: ApiKey | undefined;
  for (const key of keys) {
    if (timingSafeEqual(digest(key.key), candidate) && found === undefined) found = key;
  }
  return found;
}

/** The token of an `Authorization: Bearer TOKEN` header, if there is one. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1];
}
