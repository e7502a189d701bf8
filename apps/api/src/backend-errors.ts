/**
 * What a failed backend call tells about its outcome. A publish that failed is one of two things:
 * refused, when the failure proves nothing was written (the command never left this process,
 * or Redis answered with an error: our scripts make every check before their first write, and
 * Redis refuses a script's first write when it is out of memory); or unknown, when the command
 * may have reached Redis and run (a timeout, a connection lost while the reply was due). Only
 * the first is `unavailable` ("nothing was stored"); the second is `unconfirmed` ("resend with
 * the same nonce"), which the idempotency of nonces and `Idempotency-Key`s makes safe.
 */

/** A publish that was refused before anything was written: safe to report as not stored. */
export class NotStored extends Error {
  constructor(override readonly cause: unknown) {
    super(`not stored: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'NotStored';
  }
}

/** ioredis's message for a command refused because the connection is down (never sent). */
const NEVER_SENT = "Stream isn't writeable and enableOfflineQueue options is false";

/** Redis answered with an error reply (OOM, LOADING, BUSY, READONLY, a script's own refusal). */
const isReplyError = (error: unknown): boolean => error instanceof Error && error.name === 'ReplyError';

/** True when a failed Redis command certainly wrote nothing: it was never sent, or Redis refused it. */
export const provesNothingWritten = (error: unknown): boolean =>
  isReplyError(error) || (error instanceof Error && error.message === NEVER_SENT);

/** Redis refused a write because it is at `maxmemory` with nothing it may evict. */
export const isOutOfMemory = (error: unknown): boolean => isReplyError(error) && (error as Error).message.startsWith('OOM');

/**
 * True for any error of the Redis client (a reply error, a timeout, a lost or absent connection):
 * a route that meets one answers 503 `unavailable`, never 500.
 */
export function isBackendError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (isReplyError(error) || error.name === 'MaxRetriesPerRequestError') return true;
  return [NEVER_SENT, 'Command timed out', 'Connection is closed.'].includes(error.message);
}
