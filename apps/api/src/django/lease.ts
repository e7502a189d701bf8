import type { Redis, Result } from 'ioredis';

/** Renews only a lease still held by this node: a compare-and-expire. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;
const RELEASE_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    djangoLeaseRenew(key: string, holder: string, ttlMs: number): Result<number, Context>;
    djangoLeaseRelease(key: string, holder: string): Result<number, Context>;
  }
}

/**
 * One node of the cluster at a time receives from Django: the holder of this lease (`SET NX PX`,
 * renewed by compare-and-expire). A holder that dies stops renewing and another node takes over
 * within `ttlMs`. The holder checks `valid()` before each batch, so after a pause longer than the
 * lease (a stalled event loop) it stops instead of receiving beside its successor.
 */
export class Lease {
  private validUntil = 0;
  private renewAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly key: string,
    private readonly holder: string,
    private readonly ttlMs: number,
  ) {
    redis.defineCommand('djangoLeaseRenew', { numberOfKeys: 1, lua: RENEW_SCRIPT });
    redis.defineCommand('djangoLeaseRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
  }

  /** True while this node holds the lease; takes or renews it when due. */
  async hold(): Promise<boolean> {
    const now = Date.now();
    if (this.valid() && now < this.renewAt) return true;
    const held =
      this.validUntil > 0
        ? (await this.redis.djangoLeaseRenew(this.key, this.holder, this.ttlMs)) === 1
      : (await this.redis.set(this.key, this.holder, 'PX', this.ttlMs, 'NX')) === 'OK';
    // Counted from before the round trip: the lease in Redis lives at least this long.
    this.validUntil = held ? now + this.ttlMs : 0;
    this.renewAt = now + this.ttlMs / 4;
    return held;
  }

  /** Held, with a margin for clocks and the time a batch takes. */
  valid(): boolean {
    return Date.now() < this.validUntil - this.ttlMs / 4;
  }

  async release(): Promise<void> {
    this.validUntil = 0;
    await this.redis.djangoLeaseRelease(this.key, this.holder);
  }
}
