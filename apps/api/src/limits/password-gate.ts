import { availableParallelism } from 'node:os';
import { httpError } from '../errors.js';
import type { EdgeRefusal } from '../metrics.js';

export interface PasswordGateLimits {
  /** Password checks that run at once (each scrypt is ~100 ms of one core and 16 MiB). */
  concurrency: number;
  /** Checks that may wait for a slot; one more is refused at once with 503 `busy`. */
  queue: number;
  /** A check that waited this long (ms) without a slot is refused with 503 `busy`. */
  maxWaitMs: number;
  /** Checks one client (see `clientKey`) may have running or waiting; one more is 429 `rate_limited`. */
  perClient: number;
}

/** One slot per core (at most 4, libuv's default thread pool, which file reads need too). */
export const PASSWORD_GATE_LIMITS: PasswordGateLimits = {
  concurrency: Math.min(4, Math.max(1, availableParallelism())),
  queue: 16,
  maxWaitMs: 5000,
  perClient: 2,
};

interface Waiter {
  start(): void;
  timer: NodeJS.Timeout;
}

/**
 * Bounds the password hashing a node does. Without it, 300 concurrent logins queued 300 scrypt
 * runs on the thread pool and a real login waited 21 s behind them. Now at most `concurrency` run,
 * `queue` wait (first come, first served), each client holds at most `perClient` of those places,
 * and everything beyond is refused at once, so an answer always comes within `maxWaitMs` plus a
 * hash.
 */
export class PasswordGate {
  private running = 0;
  private readonly waiting: Waiter[] = [];
  private readonly perClient = new Map<string, number>();
  /** The most checks ever running at once (for tests and capacity planning). */
  peakRunning = 0;

  constructor(
    private readonly limits: PasswordGateLimits = PASSWORD_GATE_LIMITS,
    /** Told of every refusal (the node's metrics). */
    private readonly onRefused: (reason: EdgeRefusal) => void = () => undefined,
  ) {}

  /** Runs `check` for `client` once a slot is free, or throws `rate_limited` / `busy` at once. */
  async run<T>(client: string, check: () => Promise<T>): Promise<T> {
    const held = this.perClient.get(client) ?? 0;
    if (held >= this.limits.perClient) {
      this.onRefused('password_gate_per_address');
      throw httpError('rate_limited', 'Too many password checks from your address at once; wait a moment.', 1);
    }
    if (this.running >= this.limits.concurrency && this.waiting.length >= this.limits.queue) {
      this.onRefused('password_gate_full');
      throw httpError('busy', undefined, 1);
    }
    this.perClient.set(client, held + 1);
    try {
      await this.slot();
      try {
        return await check();
      } finally {
        this.running -= 1;
        this.waiting.shift()?.start();
      }
    } finally {
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    }
  }

  /** Resolves holding a slot (`running` already counts it), or rejects `busy` after `maxWaitMs`. */
  private slot(): Promise<void> {
    if (this.running < this.limits.concurrency) {
      this.take();
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          this.take();
          resolve();
        },
        timer: setTimeout(() => {
          this.waiting.splice(this.waiting.indexOf(waiter), 1);
          this.onRefused('password_gate_full');
          reject(httpError('busy', undefined, 1));
        }, this.limits.maxWaitMs),
      };
      this.waiting.push(waiter);
    });
  }

  private take(): void {
    this.running += 1;
    this.peakRunning = Math.max(this.peakRunning, this.running);
  }
}
