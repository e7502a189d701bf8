import { stalledMs } from './stall-clock.js';

/** The most stalled time a bucket credits: a longer stall's backlog is not all let through. */
const MAX_STALL_CREDIT_MS = 60_000;

/**
 * A token bucket: `rate` tokens a second, holding at most `burst`. Used per socket and per IP or
 * user (no I/O on the hot path) and by the embedded rate limiter.
 *
 * Time the process stood still (see stall-clock.ts) is credited beyond the burst: frames that a
 * client sent at a legal pace while the node was paused are read all at once when it resumes,
 * and must not be refused for arriving together. The credit lasts until the bucket is full
 * again, so it lets the backlog through and nothing more.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private credit = 0;
  private stalledAt: number;

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.updatedAt = now();
    this.stalledAt = stalledMs();
  }

  /** Takes one token; when none is left, says how long until one is. */
  take(): { allowed: boolean; retryAfterMs: number } {
    const now = this.now();
    const stalled = stalledMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) * this.rate) / 1000);
    if (this.tokens >= this.burst) this.credit = 0;
    this.credit += (Math.min(MAX_STALL_CREDIT_MS, stalled - this.stalledAt) * this.rate) / 1000;
    this.updatedAt = now;
    this.stalledAt = stalled;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    if (this.credit >= 1) {
      this.credit -= 1;
      return { allowed: true, retryAfterMs: 0 };
    }
    return { allowed: false, retryAfterMs: Math.ceil(((1 - this.tokens) * 1000) / this.rate) };
  }

  /** True when the bucket is full again, so a limiter may forget it. */
  idle(): boolean {
    return this.tokens + ((this.now() - this.updatedAt) * this.rate) / 1000 >= this.burst;
  }
}
