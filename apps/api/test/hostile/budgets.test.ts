import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { register } from '../auth-helpers.js';
import { TestSocket, refusedUpgrade, sleep } from '../helpers.js';
import { BACKENDS, figure, roomMessages, startTarget, type Target } from './support.js';

/**
 * Finding: the per-socket limit reset on every reconnect: one address sent 25,240 messages a
 * second by reconnecting, and 200 sockets at 20 a second each named new rooms. Now messages
 * have budgets per address and per user over all their sockets, and new sockets a rate per
 * address.
 */

/** Sends `count` messages on a fresh socket to `room` as fast as it can; closes it once each was answered. */
async function burst(url: string, room: string, count: number, tag: string, headers?: Record<string, string>): Promise<void> {
  const socket = await TestSocket.open(url, room, headers ? { headers } : {});
  for (let n = 0; n < count; n += 1) socket.send({ type: 'chat.message', message: `${tag} ${n}`, nonce: `${tag}-${n}` });
  const answered = (): number => socket.frames.filter((frame) => 'nonce' in frame && frame.nonce !== undefined).length;
  for (const deadline = Date.now() + 10_000; answered() < count && Date.now() < deadline; ) await sleep(20);
  await socket.close();
}

const DURATION_MS = 2000;

for (const backend of BACKENDS) {
  describe(`message budgets hold across reconnects (${backend})`, () => {
    let target: Target;
    beforeAll(async () => {
      // A generous socket limit: only the budgets can stop this flood.
      target = await startTarget(backend, { socketRate: 1000, ipMessageRate: 10, userMessageRate: 5, connectRate: 0 });
    });
    afterAll(() => target.close());

    it('stores at most the address budget from one address that reconnects after every 30 messages', async () => {
      const started = Date.now();
      let sent = 0;
      for (let round = 0; Date.now() - started < DURATION_MS; round += 1) {
        await burst(target.node.url, 'ip-flood', 30, `r${round}`);
        sent += 30;
      }
      const seconds = (Date.now() - started) / 1000;
      const stored = (await roomMessages(target.node, 'ip-flood')).length;
      figure(`${backend} per-IP budget: sent/stored in ${seconds.toFixed(1)} s at 10/s`, `${sent}/${stored}`);
      expect(sent).toBeGreaterThanOrEqual(60);
      // Burst of 20, then 10 a second.
      expect(stored).toBeLessThanOrEqual(20 + Math.ceil(10 * seconds) + 2);
      expect(stored).toBeGreaterThanOrEqual(20);
    });

    it('stores at most the user budget from one user on five sockets at once', async () => {
      const cookie = await register(target.node, `budget-${backend}`);
      // Past the address budget's refill first, so only the user budget can be what stops it.
      await sleep(2500);
      const started = Date.now();
      await Promise.all(Array.from({ length: 5 }, (_, s) => burst(target.node.url, 'user-flood', 6, `s${s}`, { cookie })));
      const seconds = (Date.now() - started) / 1000;
      const stored = (await roomMessages(target.node, 'user-flood')).length;
      figure(`${backend} per-user budget: sent/stored on 5 sockets at 5/s (burst 10) in ${seconds.toFixed(1)} s`, `30/${stored}`);
      // Burst of 10, then 5 a second while the sockets were sending.
      expect(stored).toBeGreaterThanOrEqual(10);
      expect(stored).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds) + 1);
      expect(stored).toBeLessThan(30);
    });
  });

  describe(`new sockets per address are rate-limited (${backend})`, () => {
    let target: Target;
    beforeAll(async () => {
      target = await startTarget(backend, { connectRate: 5 });
    });
    afterAll(() => target.close());

    it('refuses upgrades past the connection rate with 429 rate_limited, then lets one in again', async () => {
      let refused = 0;
      let opened = 0;
      const started = Date.now();
      // All at once, as a reconnect storm from one address would: far past 5 a second.
      await Promise.all(
        Array.from({ length: 40 }, async () => {
          try {
            const socket = await TestSocket.open(target.node.url, 'churn');
            opened += 1;
            await socket.close();
          } catch {
            refused += 1;
          }
        }),
      );
      const seconds = (Date.now() - started) / 1000;
      figure(`${backend} connect rate 5/s: opened/refused of 40 in ${seconds.toFixed(1)} s`, `${opened}/${refused}`);
      expect(opened).toBeLessThanOrEqual(10 + Math.ceil(5 * seconds) + 1);
      expect(refused).toBeGreaterThan(0);
      // What a refused upgrade says: past the burst (10), some of 15 at once are refused.
      const answers = await Promise.all(Array.from({ length: 15 }, () => refusedUpgrade(`${target.node.url}/ws/chat/churn/`).catch(() => undefined)));
      const refusal = answers.find((answer) => answer !== undefined);
      expect(refusal).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
      await sleep(1200);
      const again = await TestSocket.open(target.node.url, 'churn');
      await again.close();
    });
  });
}
