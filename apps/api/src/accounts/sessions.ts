import type { SessionStore as FastifySessionStore } from '@fastify/session';
import type { FastifyBaseLogger, Session } from 'fastify';
import { httpError } from '../errors.js';

/** How long a session lasts from login. Absolute, not sliding: see `plugins/session.ts`. */
export const SESSION_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Where sessions live, as serialized text with an expiry: in memory on the embedded backend, in
 * Redis on the Redis backend (so every node sees every session, across restarts).
 */
export interface SessionStore {
  get(sessionId: string): Promise<string | undefined>;
  /** Stores `data` for `ttlMs` milliseconds, then forgets it. */
  set(sessionId: string, data: string, ttlMs: number): Promise<void>;
  destroy(sessionId: string): Promise<void>;
  close(): Promise<void>;
}

/** Milliseconds until the session's cookie expires. */
function ttlOf(session: Session): number {
  const expires = session.cookie?.expires;
  if (expires === undefined || expires === null) return SESSION_MAX_AGE_MS;
  return new Date(expires).getTime() - Date.now();
}

/**
 * Adapts a `SessionStore` to @fastify/session's callback interface. A store that fails answers
 * 503 `unavailable` (never a 500 carrying the store's error text), and the failure is logged.
 */
export function fastifySessionStore(store: SessionStore, log: FastifyBaseLogger): FastifySessionStore {
  const failed = (operation: string) => (error: unknown) => {
    log.warn({ err: error, operation }, 'session store failed');
    return httpError('unavailable', 'Sessions are unavailable right now; try again.');
  };
  return {
    set(sessionId, session, callback) {
      const ttl = ttlOf(session);
      const done = ttl > 0 ? store.set(sessionId, JSON.stringify(session), ttl) : store.destroy(sessionId);
      done.then(() => callback(), (error: unknown) => callback(failed('set')(error)));
    },
    get(sessionId, callback) {
      store.get(sessionId).then(
        (text) => callback(null, text === undefined ? null : parseSession(text, log)),
        (error: unknown) => callback(failed('get')(error)),
      );
    },
    destroy(sessionId, callback) {
      store.destroy(sessionId).then(() => callback(), (error: unknown) => callback(failed('destroy')(error)));
    },
  };
}

/** A stored session; null (anonymous) for anything unreadable, which is logged, not thrown. */
function parseSession(text: string, log: FastifyBaseLogger): Session | null {
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Session;
  } catch {
    // fall through
  }
  log.warn('unreadable session record ignored');
  return null;
}
