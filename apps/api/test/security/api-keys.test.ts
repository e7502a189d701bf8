import { describe, expect, it } from 'vitest';
import { bearerToken, findApiKey } from '../../src/security/api-keys.js';

const KEYS = [
  { name: 'bridge', key: '0123456789abcdef0123' },
  { name: 'service', key: 'fedcba9876543210fedc' },
];

describe('API keys', () => {
  it('finds the key presented, with its name', () => {
    expect(findApiKey(KEYS, 'fedcba9876543210fedc')).toEqual(KEYS[1]);
    expect(findApiKey(KEYS, '0123456789abcdef0123')).toEqual(KEYS[0]);
  });

  it('refuses prefixes, extensions, case changes and the empty key', () => {
    for (const presented of ['0123456789abcdef012', '0123456789abcdef01234', '0123456789ABCDEF0123', '']) {
      expect(findApiKey(KEYS, presented), presented).toBeUndefined();
    }
    expect(findApiKey([], '0123456789abcdef0123')).toBeUndefined();
  });

  it('reads only a well-formed Bearer header', () => {
    expect(bearerToken('Bearer abc')).toBe('abc');
    expect(bearerToken('bearer  abc ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });
});
