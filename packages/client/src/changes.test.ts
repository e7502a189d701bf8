import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { RoomClient } from './room.js';
import { nodeWebSocketFactory, type NodeWebSocketConstructor } from './socket.js';

type Frame = Record<string, unknown>;

/**
 * A real WebSocket server on 127.0.0.1 that answers as the Roomcast server does for edits,
 * deletions and reactions: the sender's copy carries its nonce, everyone else's does not, and a
 * target named `9-9` belongs to someone else (`forbidden`). It records every frame it receives.
 */
async function startScriptedServer(): Promise<{ url: string; received: Frame[]; broadcast: (frame: Frame) => void; close: () => Promise<void> }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const received: Frame[] = [];
  let sequence = 10;
  const broadcast = (frame: Frame): void => {
    for (const client of server.clients) client.send(JSON.stringify(frame));
  };
  server.on('connection', (socket) => {
    socket.on('message', (data) => {
      const frame = JSON.parse(String(data)) as Frame;
      received.push(frame);
      if (frame.type === 'ping') return;
      if (frame.target === '9-9') {
        socket.send(JSON.stringify({ type: 'error', code: 'forbidden', reason: 'Not your message.', nonce: frame.nonce }));
        return;
      }
      sequence += 1;
      const { nonce, ...change } = frame;
      const copy = { ...change, id: `${sequence}-0`, room: 'r', user: 'alice', ts: sequence, ...(frame.type === 'reaction' ? { on: true } : {}) };
      for (const client of server.clients) client.send(JSON.stringify(client === socket ? { ...copy, nonce } : copy));
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    broadcast,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}

const createSocket = nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor);

describe('RoomClient edits, deletions and reactions over a real socket', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  const connect = async (url: string, since?: string): Promise<RoomClient> => {
    const client = new RoomClient({ url, room: 'r', createSocket, heartbeatMs: 0, ...(since === undefined ? {} : { since }) });
    cleanups.push(() => client.close());
    client.connect();
    await new Promise<void>((resolve) => client.on('status', (status) => status === 'open' && resolve()));
    return client;
  };

  it('sends each change with a nonce, is confirmed by its own copy, and tells the others', async () => {
    const server = await startScriptedServer();
    cleanups.push(server.close);
    const alice = await connect(server.url);
    const bob = await connect(server.url);
    const seen: Frame[] = [];
    bob.on('edit', (frame) => seen.push(frame));
    bob.on('delete', (frame) => seen.push(frame));
    bob.on('reaction', (frame) => seen.push(frame));

    const edited = alice.edit('1-0', 'fixed **text**');
    const reacted = alice.react('1-0', '🎉');
    const deleted = alice.delete('2-0');
    const replied = alice.send('yes', undefined, { replyTo: '1-0' });
    await expect(edited.confirmed).resolves.toMatchObject({ type: 'chat.edit', target: '1-0', message: 'fixed **text**', nonce: edited.nonce });
    await expect(reacted.confirmed).resolves.toMatchObject({ type: 'reaction', target: '1-0', emoji: '🎉', on: true, nonce: reacted.nonce });
    await expect(deleted.confirmed).resolves.toMatchObject({ type: 'chat.delete', target: '2-0', nonce: deleted.nonce });
    await expect(replied.confirmed).resolves.toMatchObject({ type: 'chat.message', message: 'yes', replyTo: '1-0' });

    expect(server.received.filter((frame) => frame.type !== 'ping')).toEqual([
      { type: 'chat.edit', target: '1-0', message: 'fixed **text**', nonce: edited.nonce },
      { type: 'reaction', target: '1-0', emoji: '🎉', nonce: reacted.nonce },
      { type: 'chat.delete', target: '2-0', nonce: deleted.nonce },
      { type: 'chat.message', message: 'yes', replyTo: '1-0', nonce: replied.nonce },
    ]);
    await expect.poll(() => seen.map((frame) => frame.type)).toEqual(['chat.edit', 'reaction', 'chat.delete']);
    expect(seen.every((frame) => frame.nonce === undefined)).toBe(true);
    expect(alice.unconfirmed).toEqual([]);
  });

  it('rejects a change the server refuses, with its error frame', async () => {
    const server = await startScriptedServer();
    cleanups.push(server.close);
    const alice = await connect(server.url);
    const refused = alice.delete('9-9');
    await expect(refused.confirmed).rejects.toMatchObject({ name: 'SendRefused', frame: { code: 'forbidden', nonce: refused.nonce } });
    await expect(alice.edit('1-0', 'x'.repeat(100_000)).confirmed).rejects.toMatchObject({ frame: { code: 'too_long' } });
    expect(alice.unconfirmed).toEqual([]);
  });

  it('ignores replayed changes it already has (IDs up to `since`) and resumes after the newest change', async () => {
    const server = await startScriptedServer();
    cleanups.push(server.close);
    const client = await connect(server.url, '5-0');
    const seen: string[] = [];
    client.on('reaction', (frame) => seen.push(frame.id));
    client.on('edit', (frame) => seen.push(frame.id));
    const reaction = { type: 'reaction', room: 'r', target: '1-0', emoji: '👍', on: false, user: 'bob', ts: 1 };
    server.broadcast({ ...reaction, id: '4-0' });
    server.broadcast({ ...reaction, id: '6-0' });
    server.broadcast({ type: 'chat.edit', id: '6-0', room: 'r', target: '1-0', message: 'again', user: 'alice', ts: 2 });
    server.broadcast({ type: 'chat.edit', id: '7-0', room: 'r', target: '1-0', message: 'later', user: 'alice', ts: 3 });
    await expect.poll(() => seen).toEqual(['6-0', '7-0']);
    expect(client.lastId).toBe('7-0');
  });
});
