import { CLOSE } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { sessionKey } from '../../src/redis/keys.js';
import { PASSWORD, call, register, sessionIdOf } from '../auth-helpers.js';
import { sleep, type TestNode } from '../helpers.js';
import { useFixtures } from './fixtures.js';

describe('logout closes the session’s sockets on every node', () => {
  const fixtures = useFixtures();
  const open = (node: TestNode, room: string, cookie?: string) => fixtures.open(node, room, cookie === undefined ? {} : { headers: { cookie } });

  it('Redis, two nodes: the session’s sockets on both close with 4001 within 2 s; another session stays', async () => {
    const redisUrl = await fixtures.redisUrl();
    const a = await fixtures.start({ redisUrl });
    const b = await fixtures.start({ redisUrl });
    const frank = await register(a, 'frank');
    const grace = await register(b, 'grace');
    const frankSockets = [await open(a, 'lobby', frank), await open(b, 'lobby', frank), await open(b, 'kitchen', frank)];
    const graceSocket = await open(a, 'lobby', grace);
    const guest = await open(b, 'lobby');

    const started = Date.now();
    expect((await call(a, 'POST', '/auth/logout', undefined, { cookie: frank })).status).toBe(204);
    const closes = await Promise.all(frankSockets.map((socket) => socket.closed));
    const elapsed = Date.now() - started;
    expect(closes).toEqual(frankSockets.map(() => ({ code: CLOSE.signedOut, reason: 'signed out' })));
    expect(elapsed).toBeLessThan(2000);

    await sleep(200);
    graceSocket.send({ message: 'grace is still here' });
    expect((await guest.waitForMessages(1))[0]).toMatchObject({ user: 'grace' });
    expect(graceSocket.ws.readyState).toBe(graceSocket.ws.OPEN);
  });

  it('a new login in the same browser ends the session it replaces: its sockets close with 4001 too', async () => {
    const node = await fixtures.start();
    const ops = await register(node, 'opsy');
    await register(node, 'carol');
    const socket = await open(node, 'lobby', ops);
    // The browser still sends ops's cookie when it logs in as carol (another tab's login form).
    const loggedIn = await call(node, 'POST', '/auth/login', { username: 'carol', password: PASSWORD }, { cookie: ops });
    expect(loggedIn.status).toBe(200);
    expect(await socket.closed).toEqual({ code: CLOSE.signedOut, reason: 'signed out' });
    const carol = await open(node, 'lobby', loggedIn.cookie);
    carol.send({ message: 'as carol' });
    expect((await carol.waitForMessages(1))[0]).toMatchObject({ user: 'carol' });
  });

  it('a session that expires while its socket is open closes the socket with 4001', async () => {
    const redisUrl = await fixtures.redisUrl();
    const node = await fixtures.start({ redisUrl });
    const cookie = await register(node, 'ivan');
    // Brought forward to 1.5 s from now in the store: as if the 7 days were nearly over.
    const key = sessionKey(sessionIdOf(cookie));
    const redis = new Redis(redisUrl);
    const stored = JSON.parse((await redis.get(key))!) as { cookie: Record<string, unknown> };
    const soon = new Date(Date.now() + 1500).toISOString();
    stored.cookie = { ...stored.cookie, expires: soon, originalExpires: soon };
    await redis.set(key, JSON.stringify(stored), 'PX', 60_000);
    await redis.quit();
    const socket = await open(node, 'lobby', cookie);
    const started = Date.now();
    expect(await socket.closed).toEqual({ code: CLOSE.signedOut, reason: 'signed out' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('embedded: the socket closes with 4001 at once', async () => {
    const node = await fixtures.start();
    const cookie = await register(node, 'heidi');
    const socket = await open(node, 'lobby', cookie);
    await call(node, 'POST', '/auth/logout', undefined, { cookie });
    expect(await socket.closed).toEqual({ code: CLOSE.signedOut, reason: 'signed out' });
  });
});
