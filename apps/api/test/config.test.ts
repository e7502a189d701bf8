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
