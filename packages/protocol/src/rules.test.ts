import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ROOM_PATTERN } from './constants.js';
import { isMessageText, isRoomName, isUsername, pageLimit } from './http.js';
import { compareMessageIds, isMessageId, messageIdTime, nextMessageId } from './ids.js';

describe('names', () => {
  it('accepts room and user names by the documented rules', () => {
    expect(isRoomName('lobby')).toBe(true);
    expect(isRoomName('a'.repeat(64))).toBe(true);
    expect(isRoomName('a'.repeat(65))).toBe(false);
    expect(isRoomName('with space')).toBe(false);
    expect(isRoomName('')).toBe(false);
    expect(isUsername('al')).toBe(false);
    expect(isUsername('alice.b-c_d')).toBe(true);
    expect(isMessageText('  ')).toBe(false);
  });

  it('never throws on any input', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(isRoomName(value)).toBe(typeof value === 'string' && ROOM_PATTERN.test(value));
        isUsername(value);
        isMessageText(value);
        isMessageId(value);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('message IDs', () => {
  it('orders by time then sequence, and mints strictly increasing IDs', () => {
    expect(compareMessageIds('10-0', '9-5')).toBeGreaterThan(0);
    expect(compareMessageIds('10-1', '10-2')).toBeLessThan(0);
    expect(nextMessageId('10-4', 10)).toBe('10-5');
    expect(nextMessageId('10-4', 9)).toBe('10-5');
    expect(nextMessageId('10-4', 11)).toBe('11-0');
    expect(messageIdTime('1732300000000-7')).toBe(1732300000000);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 40 }), { minLength: 1, maxLength: 50 }), (clock) => {
        let previous: string | undefined;
        for (const now of clock) {
          const next = nextMessageId(previous, now);
          if (previous !== undefined) expect(compareMessageIds(next, previous)).toBeGreaterThan(0);
          previous = next;
        }
      }),
    );
  });

  it('refuses to compare what is not an ID, with a TypeError', () => {
    expect(() => compareMessageIds('abc', '1-0')).toThrow(TypeError);
    fc.assert(
      fc.property(fc.string(), (text) => {
        if (!isMessageId(text)) expect(() => compareMessageIds(text, '1-0')).toThrow(TypeError);
      }),
    );
  });
});

describe('pageLimit', () => {
  it('accepts 1 to 200 and nothing else', () => {
    expect(pageLimit(undefined, 50)).toBe(50);
    expect(pageLimit('1', 50)).toBe(1);
    expect(pageLimit('200', 50)).toBe(200);
    expect(pageLimit('0', 50)).toBeUndefined();
    expect(pageLimit('201', 50)).toBeUndefined();
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const limit = pageLimit(raw, 50);
        if (limit !== undefined) expect(limit >= 1 && limit <= 200 && Number.isInteger(limit)).toBe(true);
      }),
    );
  });
});
