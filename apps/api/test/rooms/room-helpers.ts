import type { Visibility } from '@roomcast/protocol';
import { afterEach } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { TestSocket, refusedUpgrade, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { API_KEY, loadConfig, startNodes } from '../redis/cluster-helpers.js';

/** A key scoped to the room `secret` only (API_KEYS `bot:KEY:secret`). */
export const SCOPED_KEY = 'scoped-key-0123456789abcdef';

/** Two nodes on one private Redis, with the cluster tests' unscoped key (`svc`) and a scoped one (`bot`). */
export async function startCluster(): Promise<{ redis: TestRedis; nodes: TestNode[] }> {
  const redis = await startRedis();
  const nodes = await startNodes(
    2,
    loadConfig(redis.url, {
      apiKeys: [
        { key: API_KEY, name: 'svc' },
        { key: SCOPED_KEY, name: 'bot', rooms: ['secret'] },
      ],
    }),
  );
  return { redis, nodes };
}

/**
 * Per-test two-node cluster for a describe block: `start()` boots it (as startCluster), `track()` marks a
 * socket to close; after each test the sockets, then the nodes, then the Redis are stopped.
 */
export function clusterPerTest(): { start: () => Promise<TestNode[]>; track: (socket: TestSocket) => TestSocket } {
  let redis: TestRedis | undefined;
  let nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    nodes = [];
    await redis?.stop();
    redis = undefined;
  });
  return {
    start: async () => {
      ({ redis, nodes } = await startCluster());
      return nodes;
    },
    track: (socket) => {
      sockets.push(socket);
      return socket;
    },
  };
}

/** Registers each name (on alternating nodes) and returns their session cookies. */
export async function people(nodes: TestNode[], ...names: string[]): Promise<Record<string, string>> {
  const cookies: Record<string, string> = {};
  for (const [i, name] of names.entries()) cookies[name] = await register(nodes[i % nodes.length]!, name);
  return cookies;
}

export async function claim(node: TestNode, cookie: string, room: string, visibility: Visibility, topic = ''): Promise<void> {
  const result = await call(node, 'POST', '/rooms', { room, visibility, topic }, { cookie });
  if (result.status !== 201) throw new Error(`claim ${room}: ${result.status} ${JSON.stringify(result.body)}`);
}

/** Opens a socket as the session's user (or a guest with no cookie) and waits until it has joined. */
export const openAs = (node: TestNode, room: string, cookie?: string, query?: Record<string, string>): Promise<TestSocket> =>
  TestSocket.open(node.url, room, { ...(cookie ? { headers: { cookie } } : {}), ...(query ? { query } : {}) });

/** The refusal of an upgrade as the session's user; rejects if it is accepted. */
export const refusedAs = (node: TestNode, room: string, cookie?: string, query = ''): Promise<{ status: number; body: unknown }> =>
  refusedUpgrade(`${node.url}/ws/chat/${room}/${query}`, cookie ? { cookie } : {});

/** POSTs a message with a bearer key. */
export const postWithKey = (node: TestNode, room: string, key: string, message: string) =>
  call(node, 'POST', `/rooms/${room}/messages`, { message }, { headers: { authorization: `Bearer ${key}` } });

/** Waits for the socket to close; answers its close code and reason, and how long it took. */
export async function closedWithin(socket: TestSocket, since: number): Promise<{ code: number; reason: string; ms: number }> {
  const { code, reason } = await socket.closed;
  return { code, reason, ms: Date.now() - since };
}
