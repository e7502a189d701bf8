import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, startNode, type TestNode } from '../helpers.js';

// JSON bodies: their shape is what the assertions check.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const KEY = 'test-key-0123456789abcdef';

describe('POST /rooms/:room/messages', () => {
  let node: TestNode;
  const post = (room: string, body: string | object, headers: Record<string, string> = { authorization: `Bearer ${KEY}` }) =>
    fetch(`${node.url}/rooms/${room}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeEach(async () => {
    node = await startNode({ apiKeys: [{ key: KEY, name: 'deploy-bot' }] });
  });
  afterEach(async () => {
    await node.close();
  });

  it('stores a message with a valid key, delivers it to sockets and lists it', async () => {
    const socket = await TestSocket.open(node.url, 'ops');
    const response = await post('ops', { message: 'build 42 is green' });
    expect(response.status).toBe(201);
    const stored = await response.json();
    expect(stored).toMatchObject({ type: 'chat.message', room: 'ops', user: 'deploy-bot', message: 'build 42 is green' });

    const [delivered] = await socket.waitForMessages(1);
    expect(delivered).toEqual(stored);

    const list = await (await fetch(`${node.url}/rooms/ops/messages`)).json();
    expect(list).toEqual({ messages: [stored], hasMore: false });
    await socket.close();
  });

  it('refuses what it should, each with its status and code', async () => {
    const cases: Array<[Response, number, string]> = [
      [await post('ops', { message: 'hi' }, {}), 401, 'unauthorized'],
      [await post('ops', { message: 'hi' }, { authorization: 'Bearer not-a-key-at-all' }), 401, 'unauthorized'],
      [await post('ops', '{"message": '), 400, 'invalid_body'],
      [await post('ops', { text: 'wrong field' }), 400, 'invalid_body'],
      [await post('ops', { message: 42 }), 400, 'invalid_body'],
      [await post('ops', { message: '   ' }), 400, 'invalid_body'],
      [await post('ops', { message: 'x'.repeat(4001) }), 413, 'too_long'],
      [await post('ops', { message: 'x'.repeat(70 * 1024) }), 413, 'too_large'],
      [await post('bad%20room', { message: 'hi' }), 400, 'invalid_room'],
    ];
    for (const [response, status, code] of cases) {
      expect({ status: response.status, body: await response.json() }).toEqual({ status, body: { error: expect.any(String), code } });
    }
    const list: Json = await (await fetch(`${node.url}/rooms/ops/messages`)).json();
    expect(list.messages).toEqual([]);
  });
});

describe('GET /rooms/:room/messages', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('pages back through history with before and limit, oldest first', async () => {
    node = await startNode({ apiKeys: [{ key: KEY, name: 'service' }], publishRate: 0 });
    for (let i = 0; i < 120; i += 1) {
      const response = await fetch(`${node.url}/rooms/log/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
        body: JSON.stringify({ message: `m${i}` }),
      });
      expect(response.status).toBe(201);
    }
    const latest: Json = await (await fetch(`${node.url}/rooms/log/messages`)).json();
    expect(latest.messages.map((m: { message: string }) => m.message)).toEqual(Array.from({ length: 50 }, (_, i) => `m${i + 70}`));
    expect(latest.hasMore).toBe(true);

    const older: Json = await (await fetch(`${node.url}/rooms/log/messages?limit=100&before=${latest.messages[0].id}`)).json();
    expect(older.messages.map((m: { message: string }) => m.message)).toEqual(Array.from({ length: 70 }, (_, i) => `m${i}`));
    expect(older.hasMore).toBe(false);

    for (const query of ['limit=0', 'limit=201', 'limit=ten', 'before=yesterday']) {
      const response = await fetch(`${node.url}/rooms/log/messages?${query}`);
      expect({ query, status: response.status, code: ((await response.json()) as Json).code }).toEqual({ query, status: 400, code: 'invalid_query' });
    }
  });

  it('answers an empty page for a room nobody wrote in, and health routes answer', async () => {
    node = await startNode();
    expect(await (await fetch(`${node.url}/rooms/empty/messages`)).json()).toEqual({ messages: [], hasMore: false });
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${node.url}/readyz`);
    expect({ status: ready.status, body: await ready.json() }).toEqual({ status: 200, body: { status: 'ready', backend: 'memory' } });
    const missing = await fetch(`${node.url}/no/such/route`);
    expect({ status: missing.status, code: ((await missing.json()) as Json).code }).toEqual({ status: 404, code: 'not_found' });
  });
});
