import { afterEach, describe, expect, it } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { sleep, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { claim } from './room-helpers.js';

/** ROOM_IDLE_TTL of these nodes: an unclaimed room with nothing happening is forgotten after it. */
const IDLE_TTL_MS = 1200;

const messagesOf = async (node: TestNode, room: string, cookie: string): Promise<string[]> =>
  ((await call(node, 'GET', `/rooms/${room}/messages`, undefined, { cookie })).body as { messages: Array<{ message: string }> }).messages.map(
    (m) => m.message,
  );

for (const backend of ['memory', 'redis'] as const) {
  describe(`claimed rooms outlive ROOM_IDLE_TTL (${backend})`, () => {
    let redis: TestRedis | undefined;
    const nodes: TestNode[] = [];

    afterEach(async () => {
      await Promise.allSettled(nodes.splice(0).map((node) => node.close()));
      await redis?.stop();
      redis = undefined;
    });

    it('keeps a claimed room\'s history (written before and after the claim, on any node) while an unclaimed one is forgotten', async () => {
      if (backend === 'redis') redis = await startRedis();
      const config = { roomIdleTtlMs: IDLE_TTL_MS, roomSweepMs: 250, ...(redis ? { redisUrl: redis.url } : {}) };
      nodes.push(await startNode(config));
      if (redis) nodes.push(await startNode(config));
      const first = nodes[0]!;
      const last = nodes.at(-1)!;
      const cookie = await register(first, 'alice');
      const post = async (node: TestNode, room: string, message: string) =>
        expect((await call(node, 'POST', `/rooms/${room}/messages`, { message }, { cookie })).status).toBe(201);

      await post(first, 'den', 'before the claim');
      await claim(first, cookie, 'den', 'public');
      await post(last, 'den', 'after the claim');
      await post(last, 'drift', 'nobody owns this');

      await sleep(3 * IDLE_TTL_MS);
      expect(await messagesOf(last, 'den', cookie)).toEqual(['before the claim', 'after the claim']);
      expect(await messagesOf(first, 'drift', cookie)).toEqual([]);
    });
  });
}
