import type { FastifyBaseLogger } from 'fastify';
import { Redis, type RedisOptions } from 'ioredis';

/** Longest wait between two reconnection tries: a Redis that comes back is used within this. */
const MAX_RECONNECT_DELAY_MS = 1000;
/** How long start-up waits for Redis (under Fastify's 10 s plugin timeout, to fail with our words). */
const CONNECT_AT_START_MS = 8000;

/**
 * How Roomcast's Redis clients behave when Redis is away. The point is that trouble is visible
 * and quick: a publish that cannot be stored is refused at once (the sender is told, HTTP 503 or
 * an `unavailable` frame), never queued in memory to be stored later or lost silently.
 */
export const REDIS_CLIENT_OPTIONS = {
  // While disconnected a command fails at once instead of waiting in an unbounded queue.
  enableOfflineQueue: false,
  // A command in flight when the connection drops fails; it is not replayed on reconnect (an
  // append replayed after its reply was lost would be stored twice).
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  // A Redis that stops answering without closing the connection (a partition) fails commands.
  commandTimeout: 2000,
  connectTimeout: 2000,
  retryStrategy: (times: number) => Math.min(50 * 2 ** times, MAX_RECONNECT_DELAY_MS),
} satisfies RedisOptions;

/**
 * Logs a client's connection changing state, once per change rather than once per failed
 * reconnection try (ioredis emits an error for each).
 */
export function watchConnection(client: Redis, role: string, log: FastifyBaseLogger): void {
  let connected = false;
  let lost = false;
  client.on('error', (error: Error) => log.debug({ err: error, role }, 'Redis connection error'));
  // 'reconnecting' rather than 'close': a client closed on purpose does not reconnect.
  client.on('reconnecting', () => {
    if (!connected || lost) return;
    lost = true;
    log.warn({ role }, 'Redis connection lost; reconnecting');
  });
  client.on('ready', () => {
    connected = true;
    if (!lost) return;
    lost = false;
    log.info({ role }, 'Redis connection back');
  });
}

/**
 * The command client, once Redis answers. Start-up fails with a sentence naming REDIS_URL (and
 * no password) when Redis does not answer within CONNECT_AT_START_MS.
 */
export async function connectRedis(url: string, log: FastifyBaseLogger): Promise<Redis> {
  const client = new Redis(url, { ...REDIS_CLIENT_OPTIONS, connectionName: 'roomcast' });
  watchConnection(client, 'commands', log);
  const { host, pathname } = new URL(url);
  return whenReady(client, `REDIS_URL: no answer from Redis at ${host}${pathname} within ${CONNECT_AT_START_MS / 1000} s`);
}

/**
 * `client` once it is ready (commands sent before then fail: there is no offline queue). It is
 * disconnected, and `failure` thrown, when Redis does not answer within CONNECT_AT_START_MS.
 */
export async function whenReady(client: Redis, failure: string): Promise<Redis> {
  if (client.status === 'ready') return client;
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(failure)), CONNECT_AT_START_MS);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch (error) {
    client.disconnect();
    throw error;
  }
  return client;
}
