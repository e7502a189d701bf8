import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryFactory, redisFactory, type BackendFactory } from '../backends.js';
import { sleep } from '../helpers.js';

/** The rate limiter's contract, run against every implementation. */
function rateLimiterSuite(factory: BackendFactory): void {
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

rateLimiterSuite(memoryFactory());
rateLimiterSuite(redisFactory());

describe('rate limiter shared by Redis nodes', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  it('draws every node from one bucket: spreading requests buys nothing', async () => {
    const nodes = [await factory.create(), await factory.create(), await factory.create()];
    const allowed = [];
    for (let n = 0; n < 12; n += 1) allowed.push((await nodes[n % 3]!.limiter.take('publish:key:svc', 1, 6)).allowed);
    expect(allowed.filter(Boolean)).toHaveLength(6);
  });

  it('lets requests through when Redis does not answer, so the publish itself is refused with 503', async () => {
    const node = await factory.create();
    await factory.redis().kill();
    try {
      expect(await node.limiter.take('k', 1, 1)).toEqual({ allowed: true, retryAfterMs: 0 });
    } finally {
      await factory.redis().restart();
    }
  });
});
