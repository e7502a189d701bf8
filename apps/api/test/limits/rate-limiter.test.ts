import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { memoryFactory, redisFactory } from '../backends.js';
import { rateLimiterSuite } from './rate-limiter-suite.js';

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
