import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRoomHistory } from '../../src/history/memory.js';
import { TestSocket, UNLIMITED_SENDS, eventually } from '../helpers.js';
import { BACKENDS, MB, figure, roomMessages, settledHeap, startTarget, redisUsedMemory, type Target } from './support.js';

/**
 * Finding: rooms never expired. One address named ~1,430 new rooms a second; a million rooms
 * held 0.9 GB of heap embedded and 4.4 GB on Redis. Now a room with no socket and no message for
 * ROOM_IDLE_TTL (here 1.5 s) is forgotten with its history and every key of it.
 */
const IDLE_TTL_MS = 1500;
const ROOMS = { memory: 20_000, redis: 5_000 } as const;

for (const backend of BACKENDS) {
  describe(`idle rooms are forgotten (${backend})`, () => {
    let target: Target;
    beforeAll(async () => {
      target = await startTarget(backend, { ...UNLIMITED_SENDS, roomIdleTtlMs: IDLE_TTL_MS, roomSweepMs: 250, historyLimit: 20 });
    });
    afterAll(() => target.close());

    /** Rooms (embedded) or keys (Redis) held now. */
    const held = async (): Promise<number> =>
      target.admin ? target.admin.dbsize() : (target.node.app.backend.history as MemoryRoomHistory).stats.rooms;

    it(`forgets ${ROOMS[backend].toLocaleString('en')} rooms named once, with their history and keys, back to the baseline`, async () => {
      const { node, admin } = target;
      const baseline = { held: await held(), heap: await settledHeap(), redis: admin ? await redisUsedMemory(admin) : 0 };

      // The flood: every message names a new room, half of them with a nonce (a publish key).
      const rooms = ROOMS[backend];
      for (let start = 0; start < rooms; start += 500) {
        await Promise.all(
          Array.from({ length: 500 }, (_, i) => {
            const n = start + i;
            const draft = { room: `flood-${n}`, user: null, message: `message ${n} `.padEnd(200, 'x') };
            return n % 2 === 0
              ? node.app.publisher.publish(draft, { sender: 'conn.x!1', nonce: `n-${n}`, scope: 'k:flooder-flooder-01' }, `nonce:${draft.room}:k:flooder:n-${n}`)
              : node.app.publisher.publish(draft);
          }),
        );
      }
      const flooded = { held: await held(), heap: await settledHeap(), redis: admin ? await redisUsedMemory(admin) : 0 };
      // Each room is there: one log (plus one key for half of them on Redis).
      expect(flooded.held - baseline.held).toBeGreaterThanOrEqual(rooms);
      if (admin) expect(flooded.redis - baseline.redis).toBeGreaterThan(2 * MB);
      else expect(flooded.heap - baseline.heap).toBeGreaterThan(5 * MB);

      await eventually(async () => (await held()) <= baseline.held, 20_000, `rooms forgotten (held ${await held()}, baseline ${baseline.held})`);
      const after = { held: await held(), heap: await settledHeap(), redis: admin ? await redisUsedMemory(admin) : 0 };
      figure(`${backend} idle rooms: held baseline/flooded/after`, `${baseline.held}/${flooded.held}/${after.held}`);
      figure(`${backend} idle rooms: heap MB flooded/after vs baseline`, `${((flooded.heap - baseline.heap) / MB).toFixed(2)}/${((after.heap - baseline.heap) / MB).toFixed(2)}`);
      if (admin) figure('redis idle rooms: used_memory MB flooded/after vs baseline', `${((flooded.redis - baseline.redis) / MB).toFixed(2)}/${((after.redis - baseline.redis) / MB).toFixed(2)}`);
      if (admin) {
        expect(await admin.keys('rc:room:{flood-*')).toEqual([]);
        expect(await admin.keys('rc:room:*:idem:*')).toEqual([]);
        expect(after.redis - baseline.redis).toBeLessThan(1 * MB);
      } else {
        expect((target.node.app.backend.history as MemoryRoomHistory).stats.keys).toBe(0);
        expect(after.heap - baseline.heap).toBeLessThan(3 * MB);
      }
      expect(await roomMessages(node, 'flood-0')).toEqual([]);
    });

    it('keeps a room while a socket is in it, and forgets it an idle TTL after the socket left', async () => {
      const { node } = target;
      const socket = await TestSocket.open(node.url, 'kept');
      socket.send({ type: 'chat.message', message: 'still here', nonce: 'k-1' });
      await socket.waitFor((frame) => frame.type === 'chat.message', 'the message');
      await new Promise((resolve) => setTimeout(resolve, 3 * IDLE_TTL_MS));
      expect((await roomMessages(node, 'kept')).map((m) => m.message)).toEqual(['still here']);
      await socket.close();
      const left = Date.now();
      await eventually(async () => (await roomMessages(node, 'kept')).length === 0, 10_000, 'the room forgotten after the socket left');
      // Not before the idle TTL counted from the socket leaving (less one sweep period of slack).
      expect(Date.now() - left).toBeGreaterThanOrEqual(IDLE_TTL_MS - 300);
    });
  });
}
