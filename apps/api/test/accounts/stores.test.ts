import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryAccountStore, MemorySessionStore } from '../../src/accounts/memory.js';
import { RedisAccountStore, RedisSessionStore } from '../../src/accounts/redis.js';
import { accountKey, sessionKey } from '../../src/redis/keys.js';
import { startRedis, type TestRedis } from '../helpers.js';
import { storeSuite } from './store-suite.js';

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
