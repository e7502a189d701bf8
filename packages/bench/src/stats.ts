/**
 * Latency and delivery accounting for the load generator. Both run once per delivered copy, so
 * they allocate nothing per call: a fixed log-scale histogram and a per-receiver sequence check.
 */

/** Each bucket is 2% wider than the one before: percentiles are within 2% of the truth. */
const GROWTH = 1.02;
const SCALE = 1 / Math.log(GROWTH);
/** Up to 10^9 µs (about 17 minutes); anything longer lands in the last bucket. */
const BUCKETS = Math.ceil(Math.log(1e9) * SCALE) + 2;

/** A histogram of durations in microseconds, with percentiles good to 2%. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  max = 0;
  private sum = 0;

  record(us: number): void {
    const value = us < 1 ? 1 : us;
    let bucket = Math.floor(Math.log(value) * SCALE);
    if (bucket >= BUCKETS) bucket = BUCKETS - 1;
    this.counts[bucket]! += 1;
    this.count += 1;
    this.sum += value;
    if (value > this.max) this.max = value;
  }

  /** The value at quantile `q` (0..1), in µs; 0 when empty. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket += 1) {
      seen += this.counts[bucket]!;
      // The bucket's upper bound, capped at the largest value actually seen.
      if (seen >= rank) return Math.min(GROWTH ** (bucket + 1), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }
}

/**
 * What one receiver got from one ordered stream of numbered messages (a room has one sender).
 * Both servers keep a room's order, so a number below the next expected one is a duplicate and
 * a jump past it is a loss; nothing is assumed about copies that never came: `missingBelow`
 * counts them against what was sent.
 */
export class SequenceCheck {
  /** The next number this receiver should see. */
  expected = 0;
  received = 0;
  duplicates = 0;
  /** Numbers skipped over (a later one came first): lost, since order is guaranteed. */
  skipped = 0;

  /** Records message number `seq`; true when it is new (not a duplicate). */
  see(seq: number): boolean {
    if (seq === this.expected) {
      this.expected += 1;
      this.received += 1;
      return true;
    }
    if (seq < this.expected) {
      this.duplicates += 1;
      return false;
    }
    this.skipped += seq - this.expected;
    this.expected = seq + 1;
    this.received += 1;
    return true;
  }

  /** Messages numbered below `sent` that this receiver has not had (skipped or not yet come). */
  missingBelow(sent: number): number {
    return this.skipped + Math.max(0, sent - this.expected);
  }
}

/** Loss and duplicates summed over many receivers of the same streams. */
export interface DeliveryTally {
  expectedCopies: number;
  deliveredCopies: number;
  lost: number;
  duplicates: number;
}

export function tally(checks: Iterable<{ check: SequenceCheck; sent: number }>): DeliveryTally {
  const result: DeliveryTally = { expectedCopies: 0, deliveredCopies: 0, lost: 0, duplicates: 0 };
  for (const { check, sent } of checks) {
    result.expectedCopies += sent;
    result.deliveredCopies += check.received;
    result.lost += check.missingBelow(sent);
    result.duplicates += check.duplicates;
  }
  return result;
}
