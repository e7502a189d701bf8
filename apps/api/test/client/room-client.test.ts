import { RoomClient, SendRefused, nodeWebSocketFactory, type NodeWebSocketConstructor } from '@roomcast/client';
import { CLOSE, type ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, startNode, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

const createSocket = nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor);

describe('RoomClient against a real server', () => {
  let node: TestNode;
  let client: RoomClient;
  const received: ChatMessage[] = [];

  beforeEach(async () => {
    node = await startNode({ ...UNLIMITED_SENDS });
    received.length = 0;
    client = new RoomClient({ url: node.url, room: 'lobby', createSocket, reconnectDelay: () => 50 });
    client.on('message', (message) => received.push(message));
    client.connect();
    await eventually(() => client.status === 'open', 5000, 'open');
  });
  afterEach(async () => {
    client.close();
    await node.close();
  });

  it('confirms a send with the stored message, by nonce', async () => {
    const { nonce, confirmed } = client.send('hello');
    const stored = await confirmed;
    expect(stored).toMatchObject({ message: 'hello', nonce, room: 'lobby' });
    expect(client.unconfirmed).toEqual([]);
  });

  it('rejects a refused send with the server’s error', async () => {
    const { confirmed } = client.send('x'.repeat(5000));
    await expect(confirmed).rejects.toBeInstanceOf(SendRefused);
  });

  it('after a drop, resumes from the last message with no gap and no duplicate, and sends what was typed meanwhile', async () => {
    const poster = await TestSocket.open(node.url, 'lobby');
    for (let i = 0; i < 10; i += 1) poster.send({ message: `before ${i}` });
    await eventually(() => received.length === 10, 5000, 'ten messages');

    const reconnected = new Promise<void>((resolve) => {
      client.on('status', (status) => status === 'open' && resolve());
    });
    // The server drops the client (as it does a slow consumer), then the room moves on without it.
    // The client joined first, so its consumer is the first one the node registered.
    const [clientConsumer] = node.app.consumers;
    clientConsumer!.close(CLOSE.tooSlow, 'test drop');
    await eventually(() => client.status === 'reconnecting', 5000, 'reconnecting');
    const typed = client.send('typed while offline');
    for (let i = 0; i < 20; i += 1) poster.send({ message: `during ${i}` });
    await reconnected;
    await typed.confirmed;
    for (let i = 0; i < 5; i += 1) poster.send({ message: `after ${i}` });

    await eventually(() => received.length === 36, 10_000, `36 messages, have ${received.length}`);
    const texts = received.map((message) => message.message);
    expect(texts.filter((text) => text.startsWith('before'))).toHaveLength(10);
    expect(texts.filter((text) => text.startsWith('during'))).toEqual(Array.from({ length: 20 }, (_, i) => `during ${i}`));
    expect(texts.filter((text) => text.startsWith('after'))).toEqual(Array.from({ length: 5 }, (_, i) => `after ${i}`));
    expect(texts.filter((text) => text === 'typed while offline')).toHaveLength(1);
    expect(new Set(received.map((message) => message.id)).size).toBe(36);
    const history = (await (await fetch(`${node.url}/rooms/lobby/messages?limit=200`)).json()) as { messages: ChatMessage[] };
    expect(received.map((message) => message.id)).toEqual(history.messages.map((message) => message.id));
    await poster.close();
  });
});
