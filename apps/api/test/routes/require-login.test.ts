import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { TestSocket, startNode, type TestNode } from '../helpers.js';

const API_KEY = 'bridge:0123456789abcdef0123456789abcdef';

describe('REQUIRE_LOGIN=true', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode({
      requireLogin: true,
      apiKeys: [{ name: 'bridge', key: API_KEY.slice('bridge:'.length) }],
    });
  });
  afterEach(async () => {
    await node.close();
  });
  const bearer = { authorization: `Bearer ${API_KEY.slice('bridge:'.length)}` };

  it('refuses an anonymous upgrade with 401', async () => {
    const socket = TestSocket.connect(node.url, 'lobby');
    await expect(socket.opened).rejects.toThrow('upgrade refused: 401');
    expect(node.app.consumers.size).toBe(0);
  });

  it('refuses anonymous reads with 401 login_required', async () => {
    for (const path of ['/rooms', '/rooms/lobby/messages']) {
      const result = await call(node, 'GET', path);
      expect(result.status, path).toBe(401);
      expect(result.body, path).toMatchObject({ code: 'login_required' });
    }
  });

  it('still lets an API key publish and read', async () => {
    const published = await call(node, 'POST', '/rooms/lobby/messages', { message: 'from the bridge' }, { headers: bearer });
    expect(published.status).toBe(201);
    expect(published.body).toMatchObject({ user: 'bridge', message: 'from the bridge' });
    const read = await call(node, 'GET', '/rooms/lobby/messages', undefined, { headers: bearer });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ messages: [{ message: 'from the bridge' }] });
  });

  it('lets someone register and then use sockets and reads with the session', async () => {
    const cookie = await register(node, 'alice');
    const socket = await TestSocket.open(node.url, 'lobby', { headers: { cookie } });
    socket.send({ message: 'logged in' });
    const [own] = await socket.waitForMessages(1);
    expect(own).toMatchObject({ user: 'alice' });
    expect((await call(node, 'GET', '/rooms/lobby/messages', undefined, { cookie })).status).toBe(200);
    await socket.close();

    // Logged out, the same cookie opens nothing.
    await call(node, 'POST', '/auth/logout', undefined, { cookie });
    const again = TestSocket.connect(node.url, 'lobby', { headers: { cookie } });
    await expect(again.opened).rejects.toThrow('upgrade refused: 401');
    expect((await call(node, 'GET', '/rooms', undefined, { cookie })).status).toBe(401);
  });
});
