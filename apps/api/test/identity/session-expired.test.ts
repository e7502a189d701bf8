import { describe, expect, it } from 'vitest';
import { PASSWORD, call, register, whoAmI } from '../auth-helpers.js';
import { refusedUpgrade } from '../helpers.js';
import { useFixtures } from './fixtures.js';

const SECRET = 'first-secret-first-secret-first-secret!';

describe('a session cookie that no longer holds a session', () => {
  const fixtures = useFixtures();
  const start = fixtures.start;

  it('after an embedded restart: the upgrade, a post and /auth/me answer 401 session_expired; nothing is stored as null', async () => {
    const before = await start({ sessionSecret: SECRET });
    const cookie = await register(before, 'dave');
    const port = before.port;
    await before.close();
    // The same port and secret: only the sessions are gone, as after `npm start` again.
    const after = await start({ sessionSecret: SECRET, port });

    const upgrade = await refusedUpgrade(`${after.url}/ws/chat/lobby/`, { cookie });
    expect(upgrade).toEqual({ status: 401, body: { error: expect.stringMatching(/session has ended/), code: 'session_expired' } });
    const post = await call(after, 'POST', '/rooms/lobby/messages', { message: 'as whom?' }, { cookie });
    expect(post).toMatchObject({ status: 401, body: { code: 'session_expired' } });
    const me = await call(after, 'GET', '/auth/me', undefined, { cookie });
    expect(me).toMatchObject({ status: 401, body: { code: 'session_expired' } });
    const history = await call(after, 'GET', '/rooms/lobby/messages');
    expect(history.body).toEqual({ messages: [], hasMore: false });
    // The read does not clear the dead cookie: a browser's next upgrade must hear session_expired too.
    expect(history.setCookie).toBeUndefined();

    // The way out: logging out clears the dead cookie (then a guest), or logging in replaces it.
    const out = await call(after, 'POST', '/auth/logout', undefined, { cookie });
    expect(out.status).toBe(204);
    expect(out.setCookie).toMatch(/^roomcast_session=;/);
    const again = await call(after, 'POST', '/auth/register', { username: 'dave', password: PASSWORD }, { cookie });
    expect(again.status).toBe(201);
    expect(await whoAmI(after, again.cookie!)).toBe('dave');
  });

  it('after SESSION_SECRET changed (Redis backend, the session still stored): 401 session_expired', async () => {
    const redisUrl = await fixtures.redisUrl();
    const a = await start({ redisUrl, sessionSecret: SECRET });
    const cookie = await register(a, 'erin');
    const b = await start({ redisUrl, sessionSecret: 'second-secret-second-secret-second!!' });
    expect(await refusedUpgrade(`${b.url}/ws/chat/lobby/`, { cookie })).toMatchObject({ status: 401, body: { code: 'session_expired' } });
    // The node with the old secret still knows it: the session itself is fine.
    const socket = await fixtures.open(a, 'lobby', { headers: { cookie } });
    socket.send({ message: 'still erin' });
    expect((await socket.waitForMessages(1))[0]).toMatchObject({ user: 'erin' });
  });

  it('a visitor with no cookie at all is still a guest', async () => {
    const node = await start();
    const socket = await fixtures.open(node, 'lobby');
    socket.send({ message: 'hi' });
    expect((await socket.waitForMessages(1))[0]).toMatchObject({ user: null });
    expect((await socket.waitForMessages(1))[0]).not.toHaveProperty('guest');
  });
});
