import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, call, register, whoAmI } from '../auth-helpers.js';
import { TestSocket, sleep, startNode, type TestNode } from '../helpers.js';

const EVIL = 'http://evil.example';

describe('origin checks (cross-site WebSocket hijacking, CSRF, login CSRF)', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('refuses a cross-origin upgrade carrying a valid cookie with 403, and no socket joins', async () => {
    node = await startNode();
    const cookie = await register(node, 'alice');
    const socket = TestSocket.connect(node.url, 'lobby', { headers: { cookie, origin: EVIL } });
    await expect(socket.opened).rejects.toThrow('upgrade refused: 403');
    await sleep(100);
    expect(node.app.consumers.size).toBe(0);
    expect((await call(node, 'GET', '/rooms')).body).toEqual({ rooms: [], cursor: null });

    // The same cookie from the server's own origin is welcome.
    const own = await TestSocket.open(node.url, 'lobby', { headers: { cookie, origin: node.url } });
    expect(node.app.consumers.size).toBe(1);
    await own.close();
  });

  it('refuses a cross-origin cookie POST with 403 and stores nothing', async () => {
    node = await startNode();
    const cookie = await register(node, 'alice');
    const forged = await call(node, 'POST', '/rooms/lobby/messages', { message: 'forged' }, { cookie, origin: EVIL });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ code: 'forbidden_origin' });
    expect((await call(node, 'GET', '/rooms/lobby/messages')).body).toMatchObject({ messages: [] });

    const own = await call(node, 'POST', '/rooms/lobby/messages', { message: 'mine' }, { cookie, origin: node.url });
    expect(own.status).toBe(201);
    expect(own.body).toMatchObject({ user: 'alice', message: 'mine' });
  });

  it('refuses cross-origin login, register and logout (login CSRF, logout CSRF)', async () => {
    node = await startNode();
    const cookie = await register(node, 'alice');
    const login = await call(node, 'POST', '/auth/login', { username: 'alice', password: PASSWORD }, { origin: EVIL });
    expect([login.status, login.cookie]).toEqual([403, undefined]);
    const signup = await call(node, 'POST', '/auth/register', { username: 'bob', password: PASSWORD }, { origin: EVIL });
    expect(signup.status).toBe(403);
    expect((await call(node, 'POST', '/auth/login', { username: 'bob', password: PASSWORD })).status).toBe(401);
    const logout = await call(node, 'POST', '/auth/logout', undefined, { cookie, origin: EVIL });
    expect(logout.status).toBe(403);
    expect(await whoAmI(node, cookie)).toBe('alice');
  });

  it('with ALLOWED_ORIGINS, allows exactly the listed origins, and requests with no Origin (non-browsers)', async () => {
    node = await startNode({ allowedOrigins: ['https://chat.example'] });
    const cookie = await register(node, 'alice', PASSWORD, { origin: 'https://chat.example' });
    const listed = await TestSocket.open(node.url, 'lobby', { headers: { cookie, origin: 'https://chat.example' } });
    await listed.close();
    const own = TestSocket.connect(node.url, 'lobby', { headers: { cookie, origin: node.url } });
    await expect(own.opened).rejects.toThrow('upgrade refused: 403');
    const noOrigin = await TestSocket.open(node.url, 'lobby', { headers: { cookie } });
    await noOrigin.close();
  });
});
