import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore } from '../../src/accounts/accounts.js';
import { MemoryAccountStore, MemorySessionStore } from '../../src/accounts/memory.js';
import { RedisAccountStore, RedisSessionStore } from '../../src/accounts/redis.js';
import { SESSION_MAX_AGE_MS, type SessionStore } from '../../src/accounts/sessions.js';
import { accountKey, sessionKey } from '../../src/redis/keys.js';
import { eventually, startRedis, type TestRedis } from '../helpers.js';

interface Stores {
  accounts: AccountStore;
  sessions: SessionStore;
}

/** One suite, run against every implementation: they must behave alike. */
function storeSuite(name: string, setup: { start(): Promise<Stores>; stop(stores: Stores): Promise<void> }): void {
  describe(`${name} account and session stores`, () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await setup.start();
    });
    afterEach(async () => {
      await setup.stop(stores);
    });

    it('creates an account once per username, whatever its case, and finds it in any case', async () => {
      const account = { username: 'Alice', passwordHash: '$scrypt$x', createdAt: 1 };
      expect(await stores.accounts.create(account)).toBe(true);
      expect(await stores.accounts.create({ ...account, username: 'alice', passwordHash: '$scrypt$y' })).toBe(false);
      expect(await stores.accounts.find('ALICE')).toEqual(account);
      expect(await stores.accounts.find('bob')).toBeUndefined();
    });

    it('keeps exactly one account when the same name is registered concurrently', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stores.accounts.create({ username: i % 2 ? 'race' : 'RACE', passwordHash: `$h${i}`, createdAt: i })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('stores, reads and destroys a session', async () => {
      await stores.sessions.set('sid-1', '{"user":{"username":"alice"}}', SESSION_MAX_AGE_MS);
      expect(await stores.sessions.get('sid-1')).toBe('{"user":{"username":"alice"}}');
      expect(await stores.sessions.get('sid-2')).toBeUndefined();
      await stores.sessions.destroy('sid-1');
      expect(await stores.sessions.get('sid-1')).toBeUndefined();
    });

    it('forgets a session once its time is up', async () => {
      await stores.sessions.set('short', '{}', 150);
      await stores.sessions.set('long', '{}', SESSION_MAX_AGE_MS);
      await eventually(async () => (await stores.sessions.get('short')) === undefined, 5_000, 'the short session to expire');
      expect(await stores.sessions.get('long')).toBe('{}');
    });
  });
}

storeSuite('memory', {
  start: async () => ({ accounts: new MemoryAccountStore(), sessions: new MemorySessionStore() }),
  stop: async (stores) => stores.sessions.close(),
});

describe('Redis stores', () => {
  let redis: TestRedis;
  let client: Redis;
  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client.disconnect();
    await redis.stop();
  });

  storeSuite('Redis', {
    // The server is this test's own, on its own port: flushing it touches nothing else.
    start: async () => {
      await client.flushdb();
      return { accounts: new RedisAccountStore(client), sessions: new RedisSessionStore(client) };
    },
    stop: async (stores) => stores.sessions.close(),
  });

  it('keeps accounts under the lower-cased name and sessions with an expiry, under the shared key names', async () => {
    await new RedisAccountStore(client).create({ username: 'MiXed', passwordHash: '$h', createdAt: 1 });
    expect(JSON.parse((await client.get(accountKey('mixed')))!)).toMatchObject({ username: 'MiXed' });
    expect(await client.ttl(accountKey('mixed'))).toBe(-1);

    await new RedisSessionStore(client).set('sid', '{}', 60_000);
    const ttl = await client.pttl(sessionKey('sid'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('a record that is not an account is no account', async () => {
    await client.set(accountKey('broken'), 'not json');
    expect(await new RedisAccountStore(client).find('broken')).toBeUndefined();
  });
});
