import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionKey } from '../../src/redis/keys.js';
import { AUTH_LIMITS } from '../../src/routes/auth.js';
import { PASSWORD, call, login, register, sessionIdOf, whoAmI } from '../auth-helpers.js';
import { TestSocket, eventually, refusedUpgrade, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';

describe('accounts and sessions on the Redis backend', () => {
  let redis: TestRedis;
  const nodes: TestNode[] = [];
  const start = async () => {
    const node = await startNode({ redisUrl: redis.url });
    nodes.push(node);
    return node;
  };

  beforeEach(async () => {
    redis = await startRedis({ appendonly: true });
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.close()));
    await redis.stop();
  });

  it('a session made through node A works on node B, and after both restart', async () => {
    const a = await start();
    const b = await start();
    const cookie = await register(a, 'alice');
    expect(await whoAmI(b, cookie)).toBe('alice');

    // The socket on B knows its user; a watcher on A sees the message carry it.
    const watcher = await TestSocket.open(a.url, 'lobby');
    const alice = await TestSocket.open(b.url, 'lobby', { headers: { cookie } });
    alice.send({ message: 'from B' });
    const [seen] = await watcher.waitForMessages(1);
    expect(seen).toMatchObject({ user: 'alice', message: 'from B' });
    await Promise.all([watcher.close(), alice.close()]);

    await Promise.all(nodes.splice(0).map((node) => node.close()));
    const a2 = await start();
    const b2 = await start();
    expect(await whoAmI(a2, cookie)).toBe('alice');
    expect(await whoAmI(b2, cookie)).toBe('alice');
    // The account outlived the nodes too.
    const again = await login(b2, 'ALICE');
    expect(await whoAmI(a2, again)).toBe('alice');
  });

  it('logging out on one node ends the session on every node', async () => {
    const a = await start();
    const b = await start();
    const cookie = await register(a, 'bob');
    expect(await whoAmI(b, cookie)).toBe('bob');
    expect((await call(b, 'POST', '/auth/logout', undefined, { cookie })).status).toBe(204);
    expect(await whoAmI(a, cookie)).toBeNull();
    expect(await refusedUpgrade(`${a.url}/ws/chat/lobby/`, { cookie })).toMatchObject({ status: 401, body: { code: 'session_expired' } });
  });

  it('keeps usernames unique across nodes', async () => {
    const a = await start();
    const b = await start();
    await register(a, 'Carol');
    const taken = await call(b, 'POST', '/auth/register', { username: 'carol', password: PASSWORD });
    expect(taken.status).toBe(409);
  });

  it('stores sessions in Redis with an expiry, and keeps them across a Redis restart', async () => {
    const a = await start();
    const cookie = await register(a, 'dave');
    const client = new Redis(redis.url);
    const ttl = await client.pttl(sessionKey(sessionIdOf(cookie)));
    client.disconnect();
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 60 * 60 * 1000);

    await redis.kill();
    await redis.restart();
    await eventually(async () => (await whoAmI(a, cookie)) === 'dave', 15_000, 'the session after the Redis restart');
  });

  it('shares the brute-force limit between nodes: spreading guesses does not buy more', async () => {
    const a = await start();
    const b = await start();
    await register(a, 'victim');
    const statuses: number[] = [];
    for (let guess = 0; guess <= AUTH_LIMITS.loginPerUsername.burst; guess += 1) {
      const node = guess % 2 === 0 ? a : b;
      statuses.push((await call(node, 'POST', '/auth/login', { username: 'victim', password: `guess number ${guess}` })).status);
    }
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
