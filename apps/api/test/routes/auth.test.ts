import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PASSWORD, call, login, register, sessionIdOf, whoAmI } from '../auth-helpers.js';
import { TestSocket, refusedUpgrade, startNode, type TestNode } from '../helpers.js';

describe('auth routes', () => {
  let node: TestNode;
  const sockets: TestSocket[] = [];
  const open = async (room: string, cookie?: string) => {
    const socket = await TestSocket.open(node.url, room, cookie === undefined ? {} : { headers: { cookie } });
    sockets.push(socket);
    return socket;
  };

  beforeEach(async () => {
    node = await startNode();
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await node.close();
  });

  it('registers, logs in, chats as the user, and after logout the cookie authenticates nothing', async () => {
    const registered = await call(node, 'POST', '/auth/register', { username: 'alice', password: PASSWORD });
    expect(registered.status).toBe(201);
    expect(registered.body).toEqual({ user: { username: 'alice' } });
    expect(await whoAmI(node, registered.cookie!)).toBe('alice');

    const loggedIn = await call(node, 'POST', '/auth/login', { username: 'alice', password: PASSWORD });
    expect(loggedIn.status).toBe(200);
    expect(loggedIn.body).toEqual({ user: { username: 'alice' } });
    const cookie = loggedIn.cookie!;

    const alice = await open('lobby', cookie);
    const watcher = await open('lobby');
    alice.send({ message: 'hello as alice' });
    const [seen] = await watcher.waitForMessages(1);
    expect(seen).toMatchObject({ user: 'alice', message: 'hello as alice' });
    const presence = await watcher.waitFor((frame) => frame.type === 'presence' && frame.users.includes('alice'), 'alice in presence');
    expect(presence).toMatchObject({ users: ['alice'] });

    const out = await call(node, 'POST', '/auth/logout', undefined, { cookie });
    expect(out.status).toBe(204);
    expect(out.setCookie).toMatch(/^roomcast_session=;.*Max-Age=0/);

    expect(await whoAmI(node, cookie)).toBeNull();
    const publish = await call(node, 'POST', '/rooms/lobby/messages', { message: 'still me?' }, { cookie });
    expect(publish.status).toBe(401);
    expect(publish.body).toMatchObject({ code: 'session_expired' });
    // A new socket with the old cookie is refused, never quietly anonymous.
    const after = await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { cookie });
    expect(after).toEqual({ status: 401, body: { error: expect.any(String), code: 'session_expired' } });
  });

  it('answers /auth/me with 401 and the error body when not logged in', async () => {
    const me = await call(node, 'GET', '/auth/me');
    expect(me.status).toBe(401);
    expect(me.body).toEqual({ error: expect.any(String), code: 'unauthorized' });
  });

  it('tells caches not to keep who is logged in', async () => {
    const cookie = await register(node, 'nocache');
    const me = await call(node, 'GET', '/auth/me', undefined, { cookie });
    expect(me.status).toBe(200);
    expect(me.headers.get('cache-control')).toBe('no-store');
  });

  it('treats usernames case-insensitively for uniqueness and login, keeping the registered spelling', async () => {
    await register(node, 'Carol');
    const taken = await call(node, 'POST', '/auth/register', { username: 'carol', password: 'another password' });
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ code: 'username_taken' });
    const cookie = await login(node, 'CAROL');
    expect(await whoAmI(node, cookie)).toBe('Carol');
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    await register(node, 'dave');
    const wrong = await call(node, 'POST', '/auth/login', { username: 'dave', password: 'not the password' });
    const unknown = await call(node, 'POST', '/auth/login', { username: 'nobody', password: PASSWORD });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body).toMatchObject({ code: 'invalid_credentials' });
    expect(wrong.cookie).toBeUndefined();
  });

  it('refuses bad usernames and passwords with their own codes', async () => {
    const cases: Array<[unknown, number, string]> = [
      [{ username: 'ab', password: PASSWORD }, 400, 'invalid_username'],
      [{ username: 'has space', password: PASSWORD }, 400, 'invalid_username'],
      [{ username: 'erin', password: 'short' }, 400, 'invalid_password'],
      [{ username: 'erin', password: 'x'.repeat(201) }, 400, 'invalid_password'],
      [{ username: 'erin' }, 400, 'invalid_body'],
    ];
    for (const [body, status, code] of cases) {
      const result = await call(node, 'POST', '/auth/register', body);
      expect([result.status, (result.body as { code: string }).code], JSON.stringify(body)).toEqual([status, code]);
    }
  });

  it('gives a new session ID at login: a planted session cookie is not the one that logs in (fixation)', async () => {
    // The attacker's own valid session, planted in the victim's browser.
    const planted = await register(node, 'mallory');
    const registered = await register(node, 'victim', PASSWORD);
    await call(node, 'POST', '/auth/logout', undefined, { cookie: registered });

    const result = await call(node, 'POST', '/auth/login', { username: 'victim', password: PASSWORD }, { cookie: planted });
    expect(result.status).toBe(200);
    expect(sessionIdOf(result.cookie!)).not.toBe(sessionIdOf(planted));
    expect(await whoAmI(node, result.cookie!)).toBe('victim');
    // The planted session neither became the victim's nor survived.
    expect(await whoAmI(node, planted)).toBeNull();
  });

  it('gives a new session ID when a logged-in session logs in again', async () => {
    const before = await register(node, 'frank');
    const after = await login(node, 'frank', PASSWORD, { cookie: before });
    expect(sessionIdOf(after)).not.toBe(sessionIdOf(before));
    expect(await whoAmI(node, before)).toBeNull();
    expect(await whoAmI(node, after)).toBe('frank');
  });

  it('ignores a forged or tampered session cookie', async () => {
    const cookie = await register(node, 'grace');
    const tampered = `${cookie.slice(0, -4)}AAAA`;
    expect(await whoAmI(node, tampered)).toBeNull();
    expect(await whoAmI(node, 'roomcast_session=made-up-id')).toBeNull();
  });

  it('sets an HttpOnly, SameSite=Lax cookie, not Secure over plain HTTP', async () => {
    const result = await call(node, 'POST', '/auth/register', { username: 'heidi', password: PASSWORD });
    const attributes = result.setCookie!.split(';').map((part) => part.trim().toLowerCase());
    expect(attributes).toContain('httponly');
    expect(attributes).toContain('samesite=lax');
    expect(attributes).toContain('path=/');
    expect(attributes).not.toContain('secure');
    expect(attributes.some((part) => part.startsWith('expires='))).toBe(true);
  });

  it('does not believe X-Forwarded-Proto without TRUST_PROXY', async () => {
    const result = await call(node, 'POST', '/auth/register', { username: 'ivan', password: PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(result.setCookie!.toLowerCase()).not.toMatch(/;\s*secure/);
  });

  it('logs out idempotently: 204 without a session too', async () => {
    const result = await call(node, 'POST', '/auth/logout');
    expect(result.status).toBe(204);
  });
});

describe('auth behind a TLS-terminating proxy (TRUST_PROXY)', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('marks the cookie Secure when the proxy says the request came over HTTPS', async () => {
    node = await startNode({ trustProxy: 1 });
    const overHttps = await call(node, 'POST', '/auth/register', { username: 'judy', password: PASSWORD }, { headers: { 'x-forwarded-proto': 'https' } });
    expect(overHttps.status).toBe(201);
    expect(overHttps.setCookie!.toLowerCase()).toMatch(/;\s*secure/);
    const overHttp = await call(node, 'POST', '/auth/login', { username: 'judy', password: PASSWORD });
    expect(overHttp.setCookie!.toLowerCase()).not.toMatch(/;\s*secure/);
  });
});
