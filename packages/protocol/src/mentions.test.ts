import { describe, expect, it } from 'vitest';
import { MAX_MENTIONS } from './constants.js';
import { findMentions } from './mentions.js';

describe('findMentions', () => {
  it('finds @names at the start, after spaces and punctuation, once each', () => {
    expect(findMentions('@alice hi @bob, and @alice again (@carol)')).toEqual(['alice', 'bob', 'carol']);
  });

  it('ignores addresses, too-short names and a trailing full stop', () => {
    expect(findMentions('mail me@example.com or @al')).toEqual([]);
    expect(findMentions('thanks @dave.')).toEqual(['dave']);
  });

  it('stops at MAX_MENTIONS names', () => {
    const text = Array.from({ length: MAX_MENTIONS + 5 }, (_, i) => `@user${i}`).join(' ');
    expect(findMentions(text)).toHaveLength(MAX_MENTIONS);
  });
});
