export interface BackoffOptions {
  /** Delay before the first retry. Default 250 ms. */
  baseMs?: number;
  /** Longest delay. Default 10 s. */
  maxMs?: number;
  /** Fraction of the delay taken off at random, so clients dropped together do not return together. Default 0.5. */
  jitter?: number;
  random?: () => number;
}

/** Delay before reconnect try number `tries` (0 for the first): doubling from `baseMs`, capped, jittered. */
export function backoffDelay(tries: number, options: BackoffOptions = {}): number {
  const { baseMs = 250, maxMs = 10_000, jitter = 0.5, random = Math.random } = options;
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(tries, 30));
  return Math.round(ceiling * (1 - jitter * random()));
}
