import { describe, expect, it } from 'vitest';
import { UNPARSABLE_CLIENT, clientKey } from '../../src/limits/client-key.js';

describe('clientKey', () => {
  it('keeps an IPv4 address as it is, and unwraps an IPv4-mapped IPv6 one', () => {
    expect(clientKey('203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientKey('::FFFF:cb00:7107')).toBe('203.0.113.7');
  });

  it('counts every address of one IPv6 /64 as one client, and neighbouring /64s apart', () => {
    const keys = ['2001:db8:1:2::1', '2001:db8:1:2:ffff:ffff:ffff:ffff', '2001:0db8:0001:0002:abcd::9', '2001:DB8:1:2:0:0:0:42'].map(clientKey);
    expect(new Set(keys)).toEqual(new Set(['2001:db8:1:2::/64']));
    expect(clientKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(clientKey('::1')).toBe('::/64');
  });

  it('puts everything that is not an address under one key', () => {
    expect(new Set(['unknown', '2001:db8:7:7:11667::1', '999.1.1.1', ''].map(clientKey))).toEqual(new Set([UNPARSABLE_CLIENT]));
  });
});
