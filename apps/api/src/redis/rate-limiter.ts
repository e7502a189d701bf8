import type { FastifyBaseLogger } from 'fastify';
import type { RedisClient } from './client.js';
import type { RateDecision, RateLimiter } from '../limits/rate-limiter.js';
import { rateLimitKey } from './keys.js';
import './scripts.js';

/**
 * Token buckets kept in Redis, one script per take, so every node draws from the same bucket:
 * spreading requests over nodes does not multiply a client's allowance.
 *
 * When Redis does not answer, the limiter lets the request through (and logs it): the request
 * then meets the same unavailable Redis where it matters, and is refused there with 503, so a
 * limiter outage never turns into a wrong 429 or a 500.
 */
export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly log: FastifyBaseLogger,
  ) {}

  async take(key: string, rate: number, burst: number): Promise<RateDecision> {
    try {
      const [allowed, retryAfterMs] = await this.redis.roomcastTakeToken(rateLimitKey(key), rate, burst);
      return { allowed: allowed === 1, retryAfterMs };
    } catch (error) {
      this.log.warn({ err: error, key }, 'rate limit not checked: Redis does not answer');
      return { allowed: true, retryAfterMs: 0 };
    }
  }

  async close(): Promise<void> {
    // The client belongs to the backend, which closes it.
  }
}
