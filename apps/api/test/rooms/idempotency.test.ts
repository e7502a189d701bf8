import { RoomClient, nodeWebSocketFactory, type NodeWebSocketConstructor } from '@roomcast/client';
import type { ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, startLink, startNode, type Link, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

const KEY = 'idem-key-0123456789abcdef';
const createSocket = nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor);

async function history(node: TestNode, room: string): Promise<ChatMessage[]> {
  return ((await (await fetch(`${node.url}/rooms/${room}/messages?limit=200`)).json()) as { messages: ChatMessage[] }).messages;
}

describe('Idempotency-Key on POST /rooms/:room/messages (embedded backend)', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode({ apiKeys: [{ key: KEY, name: 'billing' }] });
  });
  afterEach(async () => {
    await node.close();
  });

  const post = (message: string, idempotencyKey?: string) =>
    fetch(`${node.url}/rooms/invoices/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${KEY}`,
        ...(idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey }),
      },
      body: JSON.stringify({ message }),
    });

  it('returns the first result for a repeat and publishes nothing new', async () => {
    const watcher = await TestSocket.open(node.url, 'invoices');
    const first = await post('invoice 7 paid', 'evt-7');
    const again = await post('invoice 7 paid', 'evt-7');
    const other = await post('invoice 8 paid', 'evt-8');
    expect([first.status, again.status, other.status]).toEqual([201, 201, 201]);
    const [a, b, c] = (await Promise.all([first.json(), again.json(), other.json()])) as ChatMessage[];
    expect(b).toEqual(a);
    expect(c!.id).not.toBe(a!.id);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();

    expect((await history(node, 'invoices')).map((message) => message.message)).toEqual(['invoice 7 paid', 'invoice 8 paid']);
    await watcher.waitForMessages(2);
    expect(watcher.messages).toHaveLength(2);
    await watcher.close();
  });

  it('publishes once when the same key races in concurrently', async () => {
    const responses = await Promise.all(Array.from({ length: 10 }, () => post('once', 'race-1')));
    const bodies = (await Promise.all(responses.map((response) => response.json()))) as ChatMessage[];
    expect(new Set(bodies.map((body) => body.id)).size).toBe(1);
    expect(await history(node, 'invoices')).toHaveLength(1);
  });

  it('refuses a malformed key', async () => {
    const response = await post('x', 'has space');
    expect(response.status).toBe(400);
    expect(((await response.json()) as { code: string }).code).toBe('invalid_body');
  });
});

describe('a socket send repeated with the same nonce', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode({ ...UNLIMITED_SENDS });
  });
  afterEach(async () => {
    await node.close();
  });

  it('is stored once, and the sender is confirmed each time', async () => {
    const sender = await TestSocket.open(node.url, 'lobby');
    const other = await TestSocket.open(node.url, 'lobby');
    sender.send({ type: 'chat.message', message: 'only once', nonce: 'n-42' });
    sender.send({ type: 'chat.message', message: 'only once', nonce: 'n-42' });
    await eventually(() => sender.messages.length === 2, 5000, 'two confirmations');
    expect(sender.messages.map((message) => [message.id, message.nonce])).toEqual([
      [sender.messages[0]!.id, 'n-42'],
      [sender.messages[0]!.id, 'n-42'],
    ]);
    await other.waitForMessages(1);
    expect(other.messages).toHaveLength(1);
    expect(await history(node, 'lobby')).toHaveLength(1);
    await Promise.all([sender.close(), other.close()]);
  });
});

describe('network blips (a connection cut, not closed, mid-send)', () => {
  let node: TestNode;
  let proxy: Link;
  let client: RoomClient;
  const received: ChatMessage[] = [];

  beforeEach(async () => {
    node = await startNode({ ...UNLIMITED_SENDS });
    proxy = await startLink(node.port);
    received.length = 0;
    client = new RoomClient({ url: proxy.url, room: 'blip', createSocket, reconnectDelay: () => 100 });
    client.on('message', (message) => received.push(message));
    client.connect();
    await eventually(() => client.status === 'open', 5000, 'open');
  });
  afterEach(async () => {
    client.close();
    await proxy.close();
    await node.close();
  });

  it('resends a message whose confirmation was lost; the room has it exactly once', async () => {
    proxy.hold('down');
    const { confirmed } = client.send('stored but unconfirmed');
    await eventually(async () => (await history(node, 'blip')).length === 1, 5000, 'the server to store it');
    proxy.drop();
    const stored = await confirmed;
    expect(stored.message).toBe('stored but unconfirmed');
    expect((await history(node, 'blip')).map((message) => message.id)).toEqual([stored.id]);
    await eventually(() => received.length === 1, 5000, 'the message in the log');
    expect(received.map((message) => message.id)).toEqual([stored.id]);
  });

  it('resends a message the server never got; the room has it exactly once', async () => {
    proxy.hold('up');
    const { confirmed } = client.send('lost on the way');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await history(node, 'blip')).toHaveLength(0);
    proxy.drop();
    const stored = await confirmed;
    expect((await history(node, 'blip')).map((message) => message.id)).toEqual([stored.id]);
    await eventually(() => received.length === 1, 5000, 'the message in the log');
    expect(received).toHaveLength(1);
  });
});
