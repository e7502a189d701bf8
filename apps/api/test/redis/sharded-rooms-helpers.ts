import type { RedisClient } from '../../src/redis/client.js';
import { roomStreamKey } from '../../src/redis/keys.js';
import type { TestRedisCluster } from '../helpers.js';

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
