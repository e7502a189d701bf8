import { spawnServer as spawnBuiltServer, type ServerProcess } from '@roomcast/testing';
import { HISTORY_PAGE_MAX, type MessageState, type MessagesPage } from '@roomcast/protocol';
import type { Config } from '../../src/config.js';
import { startNode, startRedis, startRedisCluster, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

/** An API key for HTTP publishing in these tests; the messages carry `user: "svc"`. */
export const API_KEY = 'test-key-0123456789abcdef';

/**
 * Node settings for load: no per-socket or per-key limit, history long enough to keep everything.
 * `redis`: a Redis URL, or the seed nodes of a Redis Cluster.
 */
export const loadConfig = (redis: string | string[], overrides: Partial<Config> = {}): Partial<Config> => ({
  ...(typeof redis === 'string' ? { redisUrl: redis } : { redisClusterNodes: redis }),
  ...UNLIMITED_SENDS,
  publishRate: 0,
  // Every test client comes from 127.0.0.1: hundreds of connects and resumes a minute from one address.
  connectRate: 0,
  resumeRate: 0,
  historyLimit: 10_000,
  apiKeys: [{ key: API_KEY, name: 'svc' }],
  ...overrides,
});

export async function startNodes(count: number, config: Partial<Config>): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let n = 0; n < count; n += 1) nodes.push(await startNode(config));
  return nodes;
}

/** POSTs a message with the API key; resolves with the status and the stored message (on 201). */
export async function postMessage(base: string, room: string, message: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ message }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

/** The whole stored history of a room through `GET /rooms/:room/messages`, paging back with `before`. */
export async function readHistory(base: string, room: string, maxPages = 200): Promise<MessageState[]> {
  const pages: MessageState[][] = [];
  let before: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE_MAX), ...(before === undefined ? {} : { before }) });
    const response = await fetch(`${base}/rooms/${room}/messages?${query}`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`history answered ${response.status}`);
    const body = (await response.json()) as MessagesPage;
    pages.unshift(body.messages);
    if (!body.hasMore || body.messages.length === 0) return pages.flat();
    before = body.messages[0]!.id;
  }
  throw new Error(`history of ${room} has more than ${maxPages} pages`);
}

export const ids = (messages: MessageState[]): string[] => messages.map((message) => message.id);

// ---------------------------------------------------------------- child processes

export type { ServerProcess } from '@roomcast/testing';

/**
 * Runs the built server as its own process, as production does, with limits off (SOCKET_RATE=0)
 * unless `env` says otherwise, and waits until `/readyz` answers 200. The caller kills it.
 */
export function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  return spawnBuiltServer({ SOCKET_RATE: '0', ...env });
}

/** A private Redis or Redis Cluster: how nodes in-process and a server process are pointed at it. */
export interface Store {
  redis: string | string[];
  env: Record<string, string>;
  stop(): Promise<void>;
}

export const STORES: Array<[string, () => Promise<Store>]> = [
  [
    'one Redis',
    async () => {
      const redis = await startRedis();
      return { redis: redis.url, env: { REDIS_URL: redis.url }, stop: () => redis.stop() };
    },
  ],
  [
    'a Redis Cluster',
    async () => {
      const cluster = await startRedisCluster();
      return { redis: cluster.seeds, env: { REDIS_CLUSTER_NODES: cluster.seeds.join(',') }, stop: () => cluster.stop() };
    },
  ],
];
