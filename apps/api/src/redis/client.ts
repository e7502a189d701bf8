import type { FastifyBaseLogger } from 'fastify';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

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
 * A command client: one Redis (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). Both run
 * the same commands and scripts: every key a command or script touches at once is of one slot
 * (keys.ts), so nothing Roomcast sends is refused with CROSSSLOT.
 */
export type RedisClient = Redis | Cluster;

/** True for a Redis Cluster client. */
export const isCluster = (client: RedisClient): client is Cluster => 'isCluster' in client && client.isCluster === true;

/**
 * The same behaviour on a Redis Cluster, plus what only a cluster does. A command sent when its
 * node's connection dropped is not retried on another (retryDelayOnFailover 0): it may have run,
 * and an append retried after its reply was lost would be stored twice. A cluster that is down
 * (CLUSTERDOWN, a failover in progress) refuses at once; MOVED, ASK and TRYAGAIN answers, which
 * say that nothing ran, are followed as usual.
 */
const { enableOfflineQueue, retryStrategy, ...NODE_OPTIONS } = REDIS_CLIENT_OPTIONS;
export const CLUSTER_CLIENT_OPTIONS = {
  enableOfflineQueue,
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 0,
  clusterRetryStrategy: retryStrategy,
  // Slots are re-read every few seconds as well as on MOVED: a failover is noticed even by a
  // client that sent nothing to the failed node.
  slotsRefreshInterval: 2000,
  redisOptions: NODE_OPTIONS,
} satisfies ClusterOptions;

/** `host:port` seed nodes as ioredis takes them. */
export const clusterSeeds = (nodes: readonly string[]): Array<{ host: string; port: number }> =>
  nodes.map((node) => {
    const colon = node.lastIndexOf(':');
    return { host: node.slice(0, colon), port: Number(node.slice(colon + 1)) };
  });

/** A Redis Cluster client with Roomcast's options; `sharded`: one that subscribes to sharded channels. */
export function clusterClient(nodes: readonly string[], options: { connectionName: string; sharded?: boolean }): Cluster {
  const cluster = new Cluster(clusterSeeds(nodes), {
    ...CLUSTER_CLIENT_OPTIONS,
    redisOptions: { ...NODE_OPTIONS, connectionName: options.connectionName },
    ...(options.sharded ? { shardedSubscribers: true } : {}),
  });
  keepNodesConnected(cluster);
  return cluster;
}

/**
 * ioredis opens a node's connection on its first command; without an offline queue, a second
 * command sent while it is still opening is refused ("Connection is closed."), so a burst to a
 * new master (at start, after a failover) would fail. Connections are opened as soon as the
 * client learns of a node instead.
 */
export function keepNodesConnected(cluster: Cluster): void {
  cluster.on('+node', (node: Redis) => {
    if (node.status === 'wait') node.connect().catch(() => undefined);
  });
}

/** Resolves once every master's connection of `cluster` is open (or after `ms`). */
async function mastersConnected(cluster: Cluster, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !cluster.nodes('master').every((node) => node.status === 'ready')) {
    for (const node of cluster.nodes('master')) if (node.status === 'wait') node.connect().catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Logs a client's connection changing state, once per change rather than once per failed
 * reconnection try (ioredis emits an error for each).
 */
export function watchConnection(client: RedisClient, role: string, log: FastifyBaseLogger): void {
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

/** The command client of a Redis Cluster, once it answers; start-up fails with a sentence naming REDIS_CLUSTER_NODES. */
export async function connectRedisCluster(nodes: readonly string[], log: FastifyBaseLogger): Promise<Cluster> {
  const client = clusterClient(nodes, { connectionName: 'roomcast' });
  watchConnection(client, 'commands', log);
  return whenReady(client, `REDIS_CLUSTER_NODES: no answer from a Redis Cluster at ${nodes.join(',')} within ${CONNECT_AT_START_MS / 1000} s`);
}

/**
 * `client` once it is ready (commands sent before then fail: there is no offline queue). It is
 * disconnected, and `failure` thrown, when Redis does not answer within CONNECT_AT_START_MS.
 */
export async function whenReady<Client extends RedisClient>(client: Client, failure: string): Promise<Client> {
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
  if (isCluster(client)) await mastersConnected(client, CONNECT_AT_START_MS);
  return client;
}
