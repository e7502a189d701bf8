/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Used per socket (no I/O on
 * the hot path) and by the embedded rate limiter.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
  }

  /** Takes one token; when none is left, says how long until one is. */
  take(): { allowed: boolean; retryAfterMs: number } {
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.rate) / 1000);
    this.updatedAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.rate) };
  }

  /** True when the bucket is full again, so a limiter may forget it. */
  idle(): boolean {
    return this.tokens + ((this.now() - this.updatedAt) * this.rate) / 1000 >= this.burst;
  }
}
