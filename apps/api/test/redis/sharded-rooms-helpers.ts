import { afterAll, beforeAll } from 'vitest';
import type { RedisClient } from '../../src/redis/client.js';
import { roomStreamKey } from '../../src/redis/keys.js';
import { clusterCommandClient } from '../backends.js';
import { startRedisCluster, type TestNode, type TestRedisCluster, type TestSocket } from '../helpers.js';
import { loadConfig, startNodes } from './cluster-helpers.js';

/** The slot of a room (its log's, which is every key's of the room), by Redis's own CLUSTER KEYSLOT. */
export async function roomSlot(admin: RedisClient, room: string): Promise<number> {
  return Number(await admin.call('CLUSTER', 'KEYSLOT', roomStreamKey(room)));
}

/**
 * `perMaster` rooms named `PREFIX-N` on each master of the cluster, so that a test covers every
 * shard: returns the rooms by master port.
 */
export async function roomsOnEveryMaster(cluster: TestRedisCluster, admin: RedisClient, prefix: string, perMaster: number): Promise<Map<number, string[]>> {
  const masters = await cluster.masters();
  const byMaster = new Map<number, string[]>(masters.map((port) => [port, []]));
  for (let n = 0; [...byMaster.values()].some((rooms) => rooms.length < perMaster); n += 1) {
    if (n > 10_000) throw new Error('could not spread rooms over every master');
    const room = `${prefix}-${n}`;
    const rooms = byMaster.get(await cluster.masterOf(await roomSlot(admin, room)))!;
    if (rooms.length < perMaster) rooms.push(room);
  }
  return byMaster;
}

/** What redisClusterPerFile() gives a test: the cluster and its admin client, and what it starts on it. */
export interface ClusterFile {
  readonly cluster: TestRedisCluster;
  readonly admin: RedisClient;
  /** Starts `count` Roomcast nodes on the cluster; they are closed after the block. */
  startNodes(count: number): Promise<TestNode[]>;
  /** Marks sockets to close after the block; answers them. */
  track(sockets: TestSocket[]): TestSocket[];
}

/**
 * One Redis Cluster (and an admin client on it) for a describe block, started before its tests; after
 * them the sockets, the nodes, the client and the cluster are stopped.
 */
export function redisClusterPerFile(): ClusterFile {
  let cluster: TestRedisCluster | undefined;
  let admin: RedisClient | undefined;
  const nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];
  beforeAll(async () => {
    cluster = await startRedisCluster();
    admin = await clusterCommandClient(cluster);
  }, 90_000);
  afterAll(async () => {
    await Promise.allSettled(sockets.map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    admin?.disconnect();
    await cluster?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the Redis Cluster is not started yet (use it inside a test)');
    return value;
  };
  return {
    get cluster() {
      return started(cluster);
    },
    get admin() {
      return started(admin);
    },
    async startNodes(count) {
      const more = await startNodes(count, loadConfig(started(cluster).seeds));
      nodes.push(...more);
      return more;
    },
    track(more) {
      sockets.push(...more);
      return more;
    },
  };
}
