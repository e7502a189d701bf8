import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roomStreamKey } from '../../src/redis/keys.js';
import { touchSkipMs } from '../../src/rooms/idle-rooms.js';
import { connected, redisClient, redisFactory } from '../backends.js';

/**
 * A room's idle clock (the expiry of its keys) is restarted by every socket joining or leaving,
 * but a node skips a room it restarted less than touchSkipMs ago: a crowd coming into a room
 * costs Redis one restart, not one per socket.
 */
describe('the idle clock of a room on Redis', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  it('is restarted once per skip period by a node, and again by another node', async () => {
    const admin = await connected(redisClient(factory.redis().url));
    try {
      const [first, second] = [await factory.create(), await factory.create()];
      await first.history.append({ room: 'clock', user: null, message: 'hello' });
      const key = roomStreamKey('clock');
      const ttlMs = 30 * 24 * 60 * 60 * 1000;
      expect(touchSkipMs(ttlMs)).toBe(60_000);

      await first.history.touch(['clock']);
      expect(await admin.pttl(key)).toBeGreaterThan(ttlMs - 60_000);
      // Shortened behind the node's back: a second touch within the skip period leaves it.
      await admin.pexpire(key, 50_000);
      for (let socket = 0; socket < 50; socket += 1) await first.history.touch(['clock']);
      expect(await admin.pttl(key)).toBeLessThanOrEqual(50_000);
      // Another node has not touched the room yet: it does.
      await second.history.touch(['clock']);
      expect(await admin.pttl(key)).toBeGreaterThan(ttlMs - 60_000);
    } finally {
      admin.disconnect();
    }
  });
});
