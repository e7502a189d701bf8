import { TokenBucket } from './token-bucket.js';

export interface RateDecision {
  allowed: boolean;
  retryAfterMs: number;
}

/**
 * Rate limits keyed by anything (an API key, an IP, a username). On the Redis backend the
 * buckets are shared by every node, so a client cannot multiply its allowance by spreading out.
 */
export interface RateLimiter {
  /** Takes one token from `key`'s bucket, which refills at `rate` a second up to `burst`. */
  take(key: string, rate: number, burst: number): Promise<RateDecision>;
  close(): Promise<void>;
}

/**
 * In-process token buckets by key, each forgotten once full again (a sweep every minute), so
 * a key seen once costs nothing after a while. Synchronous: no I/O.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => {
      for (const [key, bucket] of this.buckets) if (bucket.idle()) this.buckets.delete(key);
    }, 60_000);
    this.sweeper.unref();
  }

  take(key: string, rate: number, burst: number): RateDecision {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(rate, burst, this.now);
      this.buckets.set(key, bucket);
    }
    return bucket.take();
  }

  get size(): number {
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.sweeper);
    this.buckets.clear();
  }
}

/** The embedded limiter: keyed buckets in this process. */
export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets: KeyedBuckets;

  constructor(now: () => number = Date.now) {
    this.buckets = new KeyedBuckets(now);
  }

  async take(key: string, rate: number, burst: number): Promise<RateDecision> {
    return this.buckets.take(key, rate, burst);
  }

  async close(): Promise<void> {
    this.buckets.close();
  }
}
