import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { nodeAliveKey, onlineRoomShard, onlineRoomsKey } from '../../src/redis/keys.js';
import type { PresenceTiming } from '../../src/redis/presence.js';
import { RecordingChannel, connected, redisClient, redisFactory } from '../backends.js';
import { eventually } from '../helpers.js';

/** Short periods, so that healing shows within a second or two. */
const FAST: PresenceTiming = { ttlMs: 1500, heartbeatMs: 200, sweepMs: 200 };

describe('Redis presence heals', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());
  const admin = async () => connected(redisClient(factory.redis().url));

  it('removes the members of a node that stopped heartbeating, and a survivor announces the room', async () => {
    const survivor = await factory.create({ presenceTiming: FAST });
    const doomed = await factory.create({ presenceTiming: FAST });
    const watcher = new RecordingChannel(survivor.layer.newChannelName());
    await survivor.layer.groupAdd(roomGroup('lobby'), watcher);
    await survivor.presence.join('lobby', 'alive-1', 'alice');
    await doomed.presence.join('lobby', 'doomed-1', 'bob');
    await doomed.presence.join('lobby', 'doomed-2', null);
    await doomed.presence.join('kitchen', 'doomed-3', null);
    expect(await survivor.presence.get('lobby')).toEqual({ users: ['alice', 'bob'], guests: [], anonymous: 1 });

    // A node that stops without a goodbye: its heartbeat stops, its entries stay behind.
    await stopHeartbeat(doomed);
    await eventually(async () => (await survivor.presence.get('lobby')).users.length === 1, 10_000, 'bob to be swept');
    expect(await survivor.presence.get('lobby')).toEqual({ users: ['alice'], guests: [], anonymous: 0 });
    expect(await survivor.presence.rooms()).toEqual([{ room: 'lobby', online: 1 }]);
    await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 0, 5000, 'the announcement');
    expect(watcher.frames('presence').at(-1)).toEqual({ type: 'presence', room: 'lobby', users: ['alice'], guests: [], anonymous: 0 });
  });

  it('puts a node’s members back when it finds itself swept or Redis emptied', async () => {
    const node = await factory.create({ presenceTiming: FAST });
    const watcher = new RecordingChannel(node.layer.newChannelName());
    await node.layer.groupAdd(roomGroup('lobby'), watcher);
    await node.presence.join('lobby', 'm1', 'alice');
    await node.presence.join('lobby', 'm2', null);
    const client = await admin();
    try {
      // Redis restarted without persistence: everything is gone, the alive key too.
      await client.flushall();
      expect(await client.exists(nodeAliveKey(node.nodeId))).toBe(0);
      await eventually(async () => (await node.presence.get('lobby')).anonymous === 1, 5000, 'the members back');
      expect(await node.presence.get('lobby')).toEqual({ users: ['alice'], guests: [], anonymous: 1 });
      expect(await client.zscore(onlineRoomsKey(onlineRoomShard('lobby')), 'lobby')).toBe('2');
      await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 1, 5000, 'the room announced again');
    } finally {
      client.disconnect();
    }
  });
});

/** Stops a backend's presence timers without its goodbye, as SIGKILL would. */
async function stopHeartbeat(backend: { presence: unknown }): Promise<void> {
  const timers = (backend.presence as { timers: NodeJS.Timeout[] }).timers;
  for (const timer of timers) clearInterval(timer);
}
