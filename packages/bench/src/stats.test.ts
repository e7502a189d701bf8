import { describe, expect, it } from 'vitest';
import { encodePayload, PAYLOAD_BYTES, readStamp } from './payload.js';
import { LatencyHistogram, SequenceCheck, tally } from './stats.js';

describe('SequenceCheck', () => {
  it('counts an in-order stream as all received, nothing lost', () => {
    const check = new SequenceCheck();
    for (let seq = 0; seq < 100; seq += 1) expect(check.see(seq)).toBe(true);
    expect(check.received).toBe(100);
    expect(check.missingBelow(100)).toBe(0);
  });

  it('counts a repeat as a duplicate, not a delivery', () => {
    const check = new SequenceCheck();
    [0, 1, 1, 2, 0].forEach((seq) => check.see(seq));
    expect(check.received).toBe(3);
    expect(check.duplicates).toBe(2);
  });

  it('counts what was skipped and what never came as lost', () => {
    const check = new SequenceCheck();
    [0, 1, 4, 5].forEach((seq) => check.see(seq));
    expect(check.skipped).toBe(2);
    // Sent 8: 2 skipped (2, 3) and 2 never came (6, 7).
    expect(check.missingBelow(8)).toBe(4);
  });

  it('tallies many receivers against what each was sent', () => {
    const full = new SequenceCheck();
    const partial = new SequenceCheck();
    [0, 1, 2].forEach((seq) => full.see(seq));
    [0, 2, 2].forEach((seq) => partial.see(seq));
    expect(tally([{ check: full, sent: 3 }, { check: partial, sent: 3 }])).toEqual({
      expectedCopies: 6,
      deliveredCopies: 5,
      lost: 1,
      duplicates: 1,
    });
  });
});

describe('LatencyHistogram', () => {
  it('gives percentiles within 2% of the exact ones', () => {
    const histogram = new LatencyHistogram();
    const values = Array.from({ length: 10_000 }, (_, index) => 100 + index * 7);
    values.forEach((value) => histogram.record(value));
    for (const q of [0.5, 0.9, 0.99]) {
      const exact = values[Math.ceil(q * values.length) - 1]!;
      expect(Math.abs(histogram.percentile(q) - exact) / exact).toBeLessThan(0.021);
    }
    expect(histogram.max).toBe(values.at(-1));
  });

  it('is empty after reset', () => {
    const histogram = new LatencyHistogram();
    histogram.record(5);
    histogram.reset();
    expect(histogram.count).toBe(0);
    expect(histogram.percentile(0.99)).toBe(0);
  });
});

describe('payload', () => {
  it('is 64 bytes and reads back from inside a JSON frame', () => {
    const text = encodePayload(1234, 987_654_321, 7);
    expect(text).toHaveLength(PAYLOAD_BYTES);
    const frame = Buffer.from(JSON.stringify({ type: 'chat.message', id: '1-0', room: 'bench-7', user: null, message: text, ts: 1 }));
    const stamp = { seq: 0, sentUs: 0, room: 0 };
    expect(readStamp(frame, 0, frame.length, stamp)).toBe(true);
    expect(stamp).toEqual({ seq: 1234, sentUs: 987_654_321, room: 7 });
  });

  it('finds no stamp in a frame without one', () => {
    const frame = Buffer.from('{"type":"presence","room":"bench-1","users":[],"anonymous":3}');
    expect(readStamp(frame, 0, frame.length, { seq: 0, sentUs: 0, room: 0 })).toBe(false);
  });
});
