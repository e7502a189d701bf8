import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackendFactory } from '../backends.js';
import { sleep } from '../helpers.js';

/** The rate limiter's contract, run against every implementation. */
export function rateLimiterSuite(factory: BackendFactory): void {
  describe(`rate limiter (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('allows a burst, then refuses with the time until the next token', async () => {
      const { limiter } = await factory.create();
      const decisions = [];
      for (let n = 0; n < 6; n += 1) decisions.push(await limiter.take('k', 2, 4));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, false, false]);
      expect(decisions[4]!.retryAfterMs).toBeGreaterThan(0);
      expect(decisions[4]!.retryAfterMs).toBeLessThanOrEqual(500);
      expect((await limiter.take('other-key', 2, 4)).allowed).toBe(true);
    });

    it('refills at the rate', async () => {
      const { limiter } = await factory.create();
      // One token a second: the second take within a second is refused whatever the machine's speed.
      expect((await limiter.take('k', 1, 1)).allowed).toBe(true);
      const refused = await limiter.take('k', 1, 1);
      expect(refused.allowed).toBe(false);
      await sleep(refused.retryAfterMs + 50);
      expect((await limiter.take('k', 1, 1)).allowed).toBe(true);
    });
  });
}
