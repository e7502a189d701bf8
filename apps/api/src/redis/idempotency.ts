import type { ChatMessage } from '@roomcast/protocol';
import type { Redis } from 'ioredis';
import { CLAIM_TTL_MS, IDEMPOTENCY_TTL_MS, type ClaimResult, type IdempotencyStore } from '../rooms/idempotency.js';
import { idempotencyKey } from './keys.js';

/** A claim not yet completed holds this value; a completed one holds the message JSON. */
const PENDING = '';

/**
 * Publish keys shared by every node: `SET NX` makes the claim atomic across the cluster, so a
 * repeat sent to another node than the first still stores nothing.
 */
export class RedisIdempotencyStore implements IdempotencyStore {
  constructor(private readonly redis: Redis) {}

  async claim(key: string): Promise<ClaimResult> {
    const redisKey = idempotencyKey(key);
    const claimed = await this.redis.set(redisKey, PENDING, 'PX', CLAIM_TTL_MS, 'NX');
    if (claimed === 'OK') return { state: 'claimed' };
    const value = await this.redis.get(redisKey);
    if (value === null || value === PENDING) return { state: 'pending' };
    try {
      return { state: 'done', message: JSON.parse(value) as ChatMessage };
    } catch {
      // Not ours to trust: treat as in progress; it expires like any claim.
      return { state: 'pending' };
    }
  }

  async complete(key: string, message: ChatMessage, rememberMs = IDEMPOTENCY_TTL_MS): Promise<void> {
    await this.redis.set(idempotencyKey(key), JSON.stringify(message), 'PX', rememberMs);
  }

  async release(key: string): Promise<void> {
    await this.redis.del(idempotencyKey(key));
  }

  async close(): Promise<void> {}
}
