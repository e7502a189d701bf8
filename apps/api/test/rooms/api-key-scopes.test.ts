import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('API_KEYS scopes', () => {
  it('reads KEY, NAME:KEY and NAME:KEY:ROOM1|ROOM2', () => {
    expect(loadConfig({ API_KEYS: 'fedcba9876543210,ops:0123456789abcdef,bot:abcdefabcdef0123:secret|dm-x' }).apiKeys).toEqual([
      { key: 'fedcba9876543210', name: 'service' },
      { key: '0123456789abcdef', name: 'ops' },
      { key: 'abcdefabcdef0123', name: 'bot', rooms: ['secret', 'dm-x'] },
    ]);
  });

  it('stops start-up, naming API_KEYS, for a scope that is not room names or an entry with too many parts', () => {
    for (const value of ['bot:abcdefabcdef0123:no spaces', 'bot:abcdefabcdef0123:', 'a:abcdefabcdef0123:room:more']) {
      expect(() => loadConfig({ API_KEYS: value }), value).toThrow(ConfigError);
      try {
        loadConfig({ API_KEYS: value });
      } catch (error) {
        expect((error as ConfigError).variable).toBe('API_KEYS');
      }
    }
  });
});
