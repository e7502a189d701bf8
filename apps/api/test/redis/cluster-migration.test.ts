import { describe, expect, it } from 'vitest';
import { sleep, type TestRedisCluster } from '../helpers.js';
import { expectNothingLost, liveStream, subscribe } from './cluster-failover-helpers.js';
import { redisClusterPerFile, roomSlot, roomsOnEveryMaster } from './sharded-rooms-helpers.js';

/**
 * Moves `slot` from the master on `from` to the one on `to` as `redis-cli --cluster reshard`
 * does: IMPORTING on the target, MIGRATING on the source, MIGRATE of every key of the slot,
 * then SETSLOT NODE on the target, the source and every other master. Returns the keys moved.
 */
async function migrateSlot(cluster: TestRedisCluster, slot: number, from: number, to: number): Promise<number> {
  const id = async (port: number) => cluster.cli(port, 'CLUSTER', 'MYID');
  const [fromId, toId] = [await id(from), await id(to)];
  await cluster.cli(to, 'CLUSTER', 'SETSLOT', String(slot), 'IMPORTING', fromId);
  await cluster.cli(from, 'CLUSTER', 'SETSLOT', String(slot), 'MIGRATING', toId);
  let moved = 0;
  for (;;) {
    const keys = (await cluster.cli(from, 'CLUSTER', 'GETKEYSINSLOT', String(slot), '100')).split('\n').filter((key) => key !== '');
    if (keys.length === 0) break;
    await cluster.cli(from, 'MIGRATE', '127.0.0.1', String(to), '', '0', '5000', 'KEYS', ...keys);
    moved += keys.length;
  }
  const others = (await cluster.masters()).filter((port) => port !== from && port !== to);
  for (const port of [to, from, ...others]) await cluster.cli(port, 'CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
  return moved;
}

describe('a live room’s slot migrated to another master', () => {
  const env = redisClusterPerFile();

  it('loses nothing for its subscribers: every acknowledged message is stored, every socket’s sequence equals the history', async () => {
    const { cluster, admin } = env;
    const [[from, [room]], [to]] = [...(await roomsOnEveryMaster(cluster, admin, 'moving', 1))] as [[number, string[]], [number, string[]]];
    const slot = await roomSlot(admin, room!);
    const nodes = await env.startNodes(2);
    const sockets = env.track(await subscribe(nodes, room!, 2));
    let stop!: () => void;
    const streaming = liveStream(nodes, room!, new Promise<void>((resolve) => (stop = resolve)), 'moving');
    await sleep(1000);
    expect(await migrateSlot(cluster, slot, from, to)).toBeGreaterThan(0);
    expect(await cluster.masterOf(slot)).toBe(to);
    await sleep(2000);
    stop();
    const stream = await streaming;
    const history = await expectNothingLost(nodes, room!, sockets, stream);
    expect(stream.acked.length).toBeGreaterThan(20);
    // Messages were stored both before and after the move, and the room's keys are on the new master.
    const ids = history.map((message) => message.id);
    expect(ids.length).toBeGreaterThan(20);
    expect(Number(await cluster.cli(to, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBeGreaterThan(0);
    expect(Number(await cluster.cli(from, 'CLUSTER', 'COUNTKEYSINSLOT', String(slot)))).toBe(0);
    // Both nodes noticed the SUNSUBSCRIBE and caught their sockets up.
    for (const node of nodes) expect(node.app.metrics.redisReconnects).toBeGreaterThan(0);
  }, 120_000);
});
