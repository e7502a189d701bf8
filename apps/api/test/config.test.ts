import { describe, expect, it } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
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
    const config = loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET, ALLOWED_ORIGINS: 'https://chat.example' });
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
  it('reads REQUIRE_LOGIN as a boolean and refuses anything else', () => {
    expect(loadConfig({ REQUIRE_LOGIN: 'true' })).toMatchObject({ requireLogin: true });
    expect(loadConfig({})).toMatchObject({ requireLogin: false });
    expect(failure({ REQUIRE_LOGIN: 'sometimes' }).variable).toBe('REQUIRE_LOGIN');
  });

  it('reads TRUST_PROXY as a hop count or proxy addresses, and refuses true', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.5, 10.1.0.0/16, ::1, loopback' }).trustProxy).toEqual(['10.0.0.5', '10.1.0.0/16', '::1', 'loopback']);
    const unsafe = failure({ TRUST_PROXY: 'true' });
    expect(unsafe.variable).toBe('TRUST_PROXY');
    expect(unsafe.message).toContain('number of proxies');
    expect(failure({ TRUST_PROXY: '11' }).variable).toBe('TRUST_PROXY');
    expect(failure({ TRUST_PROXY: '10.0.0.0/99' }).variable).toBe('TRUST_PROXY');
    expect(failure({ TRUST_PROXY: 'proxy.internal' }).variable).toBe('TRUST_PROXY');
  });

  it('reads the HTTP timeouts, refusing a header deadline longer than the request one', () => {
    expect(loadConfig({})).toMatchObject({ headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000 });
    expect(loadConfig({ HEADERS_TIMEOUT_MS: '2000', REQUEST_TIMEOUT_MS: '4000', KEEP_ALIVE_TIMEOUT_MS: '1000' })).toMatchObject({
      headersTimeoutMs: 2000,
      requestTimeoutMs: 4000,
      keepAliveTimeoutMs: 1000,
    });
    expect(failure({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4000' }).variable).toBe('HEADERS_TIMEOUT_MS');
    expect(failure({ REQUEST_TIMEOUT_MS: '0' }).variable).toBe('REQUEST_TIMEOUT_MS');
  });

  it('requires ALLOWED_ORIGINS in production, naming it', () => {
    const error = failure({ NODE_ENV: 'production', SESSION_SECRET: SECRET });
    expect(error.variable).toBe('ALLOWED_ORIGINS');
    expect(error.message).not.toContain('\n');
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: SECRET, ALLOWED_ORIGINS: 'https://chat.example' }).allowedOrigins).toEqual([
      'https://chat.example',
    ]);
  });

  it('reads METRICS_TOKEN, refusing a short one', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: 'scrape-token-0123456789' }).metricsToken).toBe('scrape-token-0123456789');
    expect(failure({ METRICS_TOKEN: 'short' }).variable).toBe('METRICS_TOKEN');
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

describe('log format', () => {
  it('is readable at a terminal and JSON otherwise, unless LOG_FORMAT says which', () => {
    expect(loadConfig({}, { tty: true }).logFormat).toBe('pretty');
    expect(loadConfig({}, { tty: false }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'json' }, { tty: true }).logFormat).toBe('json');
    expect(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(failure({ LOG_FORMAT: 'xml' }).variable).toBe('LOG_FORMAT');
  });
});

describe('storage and budget settings', () => {
  it('defaults to a 30-day room idle TTL, a sweep at most every 10 minutes, and budgets on', () => {
    expect(loadConfig({})).toMatchObject({
      roomIdleTtlMs: 30 * 24 * 60 * 60 * 1000,
      roomSweepMs: 600_000,
      ipMessageRate: 60,
      userMessageRate: 30,
      connectRate: 20,
    });
    expect(loadConfig({ ROOM_IDLE_TTL: '60' })).toMatchObject({ roomIdleTtlMs: 60_000, roomSweepMs: 15_000 });
    expect(loadConfig({ ROOM_IDLE_TTL: '60', ROOM_SWEEP_INTERVAL: '5', IP_MESSAGE_RATE: '0' })).toMatchObject({ roomSweepMs: 5000, ipMessageRate: 0 });
  });

  it('refuses a room idle TTL or sweep of zero, and budgets that are not whole numbers, naming the variable', () => {
    expect(failure({ ROOM_IDLE_TTL: '0' }).variable).toBe('ROOM_IDLE_TTL');
    expect(failure({ ROOM_SWEEP_INTERVAL: '0' }).variable).toBe('ROOM_SWEEP_INTERVAL');
    expect(failure({ IP_MESSAGE_RATE: 'lots' }).variable).toBe('IP_MESSAGE_RATE');
    expect(failure({ USER_MESSAGE_RATE: '-1' }).variable).toBe('USER_MESSAGE_RATE');
    expect(failure({ CONNECT_RATE: '1.5' }).variable).toBe('CONNECT_RATE');
  });
});

describe('identity settings', () => {
  it('TOKEN_SECRET must be at least 32 characters', () => {
    expect(failure({ TOKEN_SECRET: 'short' }).variable).toBe('TOKEN_SECRET');
    expect(loadConfig({ TOKEN_SECRET: SECRET }).tokenSecret).toBe(SECRET);
  });

  it('TOKEN_PUBLIC_KEY must be an RSA or P-256 public key in PEM; one-line \\n escapes are read', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(loadConfig({ TOKEN_PUBLIC_KEY: pem.replace(/\n/g, '\\n') }).tokenPublicKey).toBe(pem);
    expect(failure({ TOKEN_PUBLIC_KEY: 'not a key' }).variable).toBe('TOKEN_PUBLIC_KEY');
    const ed = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(failure({ TOKEN_PUBLIC_KEY: ed }).message).toMatch(/RSA key \(RS256\) or a P-256 key/);
  });

  it('AUTH_HOOK_URL must be an http(s) URL', () => {
    expect(loadConfig({ AUTH_HOOK_URL: 'http://127.0.0.1:8001/roomcast/whoami/' }).authHookUrl).toBe('http://127.0.0.1:8001/roomcast/whoami/');
    expect(failure({ AUTH_HOOK_URL: 'whoami' }).variable).toBe('AUTH_HOOK_URL');
    expect(failure({ AUTH_HOOK_URL: 'ftp://site/whoami' }).variable).toBe('AUTH_HOOK_URL');
  });
});

describe('resume and presence bounds', () => {
  it('defaults to 1 MiB a resume and in flight per address, 10 resumes/s, a frame per 250 ms, names up to 100', () => {
    expect(loadConfig({})).toMatchObject({
      resumeMaxBytes: 1024 * 1024,
      resumeBufferPerIp: 1024 * 1024,
      resumeRate: 10,
      presenceIntervalMs: 250,
      presenceListMax: 100,
    });
    expect(loadConfig({ RESUME_RATE: '0', PRESENCE_LIST_MAX: '0' })).toMatchObject({ resumeRate: 0, presenceListMax: 0 });
  });

  it('refuses values that are not whole numbers in range, naming the variable', () => {
    expect(failure({ RESUME_MAX_BYTES: '1k' }).variable).toBe('RESUME_MAX_BYTES');
    expect(failure({ RESUME_MAX_BYTES: '100' }).variable).toBe('RESUME_MAX_BYTES');
    expect(failure({ RESUME_BUFFER_PER_IP: '-1' }).variable).toBe('RESUME_BUFFER_PER_IP');
    expect(failure({ RESUME_RATE: 'lots' }).variable).toBe('RESUME_RATE');
    expect(failure({ PRESENCE_INTERVAL_MS: '100000' }).variable).toBe('PRESENCE_INTERVAL_MS');
    expect(failure({ PRESENCE_LIST_MAX: '1.5' }).variable).toBe('PRESENCE_LIST_MAX');
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

describe('Redis Cluster configuration', () => {
  it('reads REDIS_CLUSTER_NODES as seed nodes and REDIS_WAIT_REPLICAS as a count (0 by default)', () => {
    const config = loadConfig({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002', REDIS_WAIT_REPLICAS: '1' });
    expect(config.redisClusterNodes).toEqual(['10.0.0.1:7000', 'redis-b:7001', '[::1]:7002']);
    expect(config.redisUrl).toBeUndefined();
    expect(config.redisWaitReplicas).toBe(1);
    expect(loadConfig({}).redisWaitReplicas).toBe(0);
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'h:1', WORKERS: '2' }).workers).toBe(2);
  });

  it('refuses REDIS_CLUSTER_NODES beside REDIS_URL in one line naming both', () => {
    const error = failure({ REDIS_CLUSTER_NODES: 'h:7000', REDIS_URL: 'redis://h:6379' });
    expect(error.variable).toBe('REDIS_CLUSTER_NODES');
    expect(error.message).toContain('REDIS_URL');
    expect(error.message).not.toContain('\n');
  });

  it.each([
    [{ REDIS_CLUSTER_NODES: 'no-port' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'h:70000' }, 'REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'h:7000', REDIS_WAIT_REPLICAS: 'one' }, 'REDIS_WAIT_REPLICAS'],
  ])('refuses %j, naming %s', (env, variable) => {
    expect(failure(env as Record<string, string>).variable).toBe(variable);
  });
});
