import { RoomClient, RoomClosed, nodeWebSocketFactory, type NodeWebSocketConstructor, type RoomStatus, type UpgradeRefusal } from '@roomcast/client';
import { CLOSE, type ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { eventually, startLink, type Link } from '../helpers.js';
import { useFixtures } from '../identity/fixtures.js';

const factory = (headers?: Record<string, string>) => nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor, headers);

describe('RoomClient: identity, dead links and rate limits', () => {
  const fixtures = useFixtures();
  const clients: RoomClient[] = [];
  let link: Link | undefined;
  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await link?.close();
    link = undefined;
  });
  const connect = (url: string, options: Partial<ConstructorParameters<typeof RoomClient>[0]> = {}) => {
    const client = new RoomClient({ url, room: 'lobby', createSocket: factory(), reconnectDelay: () => 50, ...options });
    clients.push(client);
    return client.connect();
  };

  it('stops on 401 session_expired at the upgrade: refused, closed, the pending send not lost as someone else', async () => {
    const node = await fixtures.start();
    const cookie = await register(node, 'dave');
    await call(node, 'POST', '/auth/logout', undefined, { cookie });
    const refusals: UpgradeRefusal[] = [];
    const client = connect(node.url, { createSocket: factory({ cookie }) });
    client.on('refused', (refusal) => refusals.push(refusal));
    const { confirmed } = client.send('typed before the refusal');
    const error = await confirmed.catch((failure: unknown) => failure);
    expect(client.status).toBe('closed');
    expect(refusals).toEqual([{ status: 401, code: 'session_expired', reason: expect.any(String) }]);
    expect(error).toBeInstanceOf(RoomClosed);
    expect((error as RoomClosed).refusal?.code).toBe('session_expired');
    const history = await call(node, 'GET', '/rooms/lobby/messages');
    expect(history.body).toEqual({ messages: [], hasMore: false });
  });

  it('closes for good on 4001 when the session logs out elsewhere', async () => {
    const node = await fixtures.start();
    const cookie = await register(node, 'erin');
    const client = connect(node.url, { createSocket: factory({ cookie }) });
    await eventually(() => client.status === 'open', 5000, 'open');
    await call(node, 'POST', '/auth/logout', undefined, { cookie });
    await eventually(() => client.status === 'closed', 2000, 'closed within 2 s');
    expect(client.ended?.closeCode).toBe(CLOSE.signedOut);
  });

  it('notices a link that stopped delivering and reconnects; the send made meanwhile is stored once', async () => {
    const node = await fixtures.start();
    link = await startLink(node.port);
    const statuses: RoomStatus[] = [];
    const client = connect(link.url, { heartbeatMs: 400 });
    client.on('status', (status) => statuses.push(status));
    await eventually(() => client.status === 'open', 5000, 'open');
    link.hold('down');
    const { confirmed } = client.send('sent into the void');
    await eventually(() => client.status !== 'open', 3000, 'the dead link noticed within 3 s');
    link.restore();
    const stored = await confirmed;
    expect(stored.message).toBe('sent into the void');
    expect(statuses.slice(statuses.indexOf('reconnecting'))).toEqual(['reconnecting', 'open']);
    const history = (await call(node, 'GET', '/rooms/lobby/messages')).body as { messages: ChatMessage[] };
    expect(history.messages.map((message) => message.message)).toEqual(['sent into the void']);
  });

  it('a burst of 60 over the socket rate waits retryAfterMs and resends: all 60 stored once, in order, none refused', async () => {
    const node = await fixtures.start({ socketRate: 10 });
    const client = connect(node.url);
    await eventually(() => client.status === 'open', 5000, 'open');
    const errors: unknown[] = [];
    client.on('error', (frame) => errors.push(frame));
    const texts = Array.from({ length: 60 }, (_, n) => `burst ${n}`);
    const results = await Promise.allSettled(texts.map((text) => client.send(text).confirmed));
    expect(results.filter((result) => result.status === 'rejected')).toEqual([]);
    expect(errors).toEqual([]);
    const history = (await call(node, 'GET', '/rooms/lobby/messages?limit=100')).body as { messages: ChatMessage[] };
    expect(history.messages.map((message) => message.message)).toEqual(texts);
  });
});
