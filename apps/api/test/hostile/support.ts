import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { connected, redisClient } from '../backends.js';
import { sleep, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';

/**
 * Support for the hostile suite: each file repeats one finding of an outside review (one
 * anonymous address attacking both backends) against its own nodes and its own redis-server on
 * loopback, bounded in count and time, and asserts the figures against fixed bounds.
 */

export const API_KEY = 'hostile-key-0123456789abcdef';
export const BACKENDS = ['memory', 'redis'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface Target {
  node: TestNode;
  /** The node's own redis-server and an admin client to it (Redis backend only). */
  redis: TestRedis | undefined;
  admin: Redis | undefined;
  close(): Promise<void>;
}

/** A node of `backend` (with its own redis-server for Redis), publishing with API_KEY allowed. */
export async function startTarget(backend: BackendName, overrides: Partial<Config> = {}): Promise<Target> {
  const redis = backend === 'redis' ? await startRedis() : undefined;
  const node = await startNode({
    ...(redis ? { redisUrl: redis.url } : {}),
    apiKeys: [{ key: API_KEY, name: 'svc' }],
    publishRate: 0,
    ...overrides,
  });
  const admin = redis ? await connected(redisClient(redis.url)) : undefined;
  return {
    node,
    redis,
    admin,
    async close() {
      admin?.disconnect();
      await node.close();
      await redis?.stop();
    },
  };
}

/** `POST /rooms/:room/messages` with the API key; the status and the JSON body. */
export async function post(
  node: TestNode,
  room: string,
  message: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${node.url}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...headers },
    body: JSON.stringify({ message }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Every message kept in `room` (up to 200), oldest first. */
export async function roomMessages(node: { url: string }, room: string): Promise<Array<{ id: string; message: string }>> {
  const response = await fetch(`${node.url}/rooms/${room}/messages?limit=200`);
  return ((await response.json()) as { messages: Array<{ id: string; message: string }> }).messages;
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after collecting garbage until it settles. */
export async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(100);
  }
  return process.memoryUsage().heapUsed;
}

/** Redis's `used_memory`, in bytes. */
export async function redisUsedMemory(admin: Redis): Promise<number> {
  const info = await admin.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

export const MB = 1024 * 1024;

/** Prints a measured figure when HOSTILE_FIGURES=1 (for the record; tests assert the bounds). */
export function figure(name: string, value: number | string): void {
  if (process.env.HOSTILE_FIGURES === '1') process.stderr.write(`[figure] ${name}: ${value}\n`);
}
