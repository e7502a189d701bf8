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
