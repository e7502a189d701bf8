import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

const SECRET = 'a-production-secret-of-32-chars!';

function failure(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('SESSION_SECRET', () => {
  it('is required in production, with a one-line error naming the variable', () => {
    const error = failure({ NODE_ENV: 'production' });
    expect(error.variable).toBe('SESSION_SECRET');
    expect(error.message).toMatch(/^SESSION_SECRET: /);
    expect(error.message).not.toContain('\n');
  });

  it('must be at least 32 characters, in production and in development', () => {
    expect(failure({ NODE_ENV: 'production', SESSION_SECRET: SECRET.slice(0, 31) }).variable).toBe('SESSION_SECRET');
    expect(failure({ SESSION_SECRET: 'short' }).variable).toBe('SESSION_SECRET');
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET });
    expect([config.sessionSecret, config.sessionSecretGenerated]).toEqual([SECRET, false]);
  });

  it('defaults in development to a random secret per start, flagged for the start-up warning', () => {
    const first = loadConfig({});
    const second = loadConfig({});
    expect(first.sessionSecretGenerated).toBe(true);
    expect(first.sessionSecret.length).toBeGreaterThanOrEqual(32);
    expect(second.sessionSecret).not.toBe(first.sessionSecret);
  });
});

describe('auth-related settings', () => {
  it('reads REQUIRE_LOGIN and TRUST_PROXY as booleans and refuses anything else', () => {
    expect(loadConfig({ REQUIRE_LOGIN: 'true', TRUST_PROXY: '1' })).toMatchObject({ requireLogin: true, trustProxy: true });
    expect(loadConfig({})).toMatchObject({ requireLogin: false, trustProxy: false });
    expect(failure({ REQUIRE_LOGIN: 'sometimes' }).variable).toBe('REQUIRE_LOGIN');
  });

  it('reads ALLOWED_ORIGINS as origins and refuses entries that are not', () => {
    expect(loadConfig({ ALLOWED_ORIGINS: 'https://chat.example/, http://localhost:5173' }).allowedOrigins).toEqual([
      'https://chat.example',
      'http://localhost:5173',
    ]);
    expect(failure({ ALLOWED_ORIGINS: 'chat.example' }).variable).toBe('ALLOWED_ORIGINS');
  });

  it('refuses API keys shorter than 16 characters', () => {
    expect(failure({ API_KEYS: 'bridge:short' }).variable).toBe('API_KEYS');
    expect(loadConfig({ API_KEYS: 'bridge:0123456789abcdef,fedcba9876543210' }).apiKeys).toEqual([
      { name: 'bridge', key: '0123456789abcdef' },
      { name: 'service', key: 'fedcba9876543210' },
    ]);
  });
});

describe('DJANGO_* (the Django Channels bridge)', () => {
  it('is off unless DJANGO_CHANNEL_LAYER is set, and reads the defaults of channels_redis and the tutorial', () => {
    expect(loadConfig({}).django).toBeUndefined();
    expect(loadConfig({ DJANGO_CHANNEL_LAYER: 'core', REDIS_URL: 'redis://127.0.0.1:6390/0' }).django).toEqual({
      layer: 'core',
      redisUrl: 'redis://127.0.0.1:6390/0',
      groupPrefix: 'chat_',
      layerPrefix: 'asgi',
      encryptionKeys: [],
    });
    expect(
      loadConfig({
        DJANGO_CHANNEL_LAYER: 'pubsub',
        DJANGO_REDIS_URL: 'redis://django:6379/1',
        DJANGO_GROUP_PREFIX: 'room.',
        DJANGO_LAYER_PREFIX: 'myproject',
        DJANGO_ENCRYPTION_KEYS: 'new-key, old-key',
      }).django,
    ).toEqual({ layer: 'pubsub', redisUrl: 'redis://django:6379/1', groupPrefix: 'room.', layerPrefix: 'myproject', encryptionKeys: ['new-key', 'old-key'] });
  });

  it.each([
    [{ DJANGO_CHANNEL_LAYER: 'memory', REDIS_URL: 'redis://x:1' }, 'DJANGO_CHANNEL_LAYER'],
    [{ DJANGO_CHANNEL_LAYER: 'core' }, 'DJANGO_REDIS_URL'],
    [{ DJANGO_CHANNEL_LAYER: 'core', DJANGO_REDIS_URL: 'http://x:1' }, 'DJANGO_REDIS_URL'],
    [{ DJANGO_CHANNEL_LAYER: 'core', REDIS_URL: 'redis://x:1', DJANGO_GROUP_PREFIX: 'chat room' }, 'DJANGO_GROUP_PREFIX'],
    [{ DJANGO_CHANNEL_LAYER: 'core', REDIS_URL: 'redis://x:1', DJANGO_LAYER_PREFIX: 'a b' }, 'DJANGO_LAYER_PREFIX'],
  ])('refuses %j, naming %s', (env, variable) => {
    const error = failure(env as Record<string, string>);
    expect(error.variable).toBe(variable);
    expect(error.message).not.toContain('\n');
  });
});
