import { afterEach, describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import { startNode, type TestNode, type TestSocket } from '../helpers.js';
import { claim, closedWithin, openAs, people, refusedAs } from './room-helpers.js';

describe('rooms people own on the embedded backend', () => {
  let node: TestNode | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await node?.close();
  });

  it('closes non-members when a room turns private, bans at once, and holds slow mode per person', async () => {
    node = await startNode({ socketRate: 0 });
    const cookies = await people([node], 'alice', 'bob', 'carol');
    await claim(node, cookies.alice!, 'den', 'public');
    await call(node, 'PUT', '/rooms/den/members/bob', { role: 'member' }, { cookie: cookies.alice! });
    const bob = await openAs(node, 'den', cookies.bob);
    const carol = await openAs(node, 'den', cookies.carol);
    const guest = await openAs(node, 'den');
    sockets.push(bob, carol, guest);

    // Private now: the non-member and the guest are closed, the member stays.
    const started = Date.now();
    expect((await call(node, 'PATCH', '/rooms/den', { visibility: 'private' }, { cookie: cookies.alice! })).status).toBe(200);
    for (const outsider of [carol, guest]) expect(await closedWithin(outsider, started)).toMatchObject({ code: 4003, reason: 'forbidden' });
    expect(await refusedAs(node, 'den', cookies.carol)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    bob.send({ message: 'still in' });
    await bob.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'still in', 'the member\'s message');

    // Slow mode set while the socket is open holds it.
    expect((await call(node, 'PATCH', '/rooms/den', { slowModeMs: 5000 }, { cookie: cookies.alice! })).status).toBe(200);
    bob.send({ type: 'chat.message', message: 'one', nonce: 's1' });
    bob.send({ type: 'chat.message', message: 'two', nonce: 's2' });
    const refused = await bob.waitFor((frame) => frame.type === 'error' && frame.nonce === 's2', 'the slow-mode refusal');
    expect(refused).toMatchObject({ code: 'rate_limited' });

    // Banned: closed now, refused after.
    const banAt = Date.now();
    expect((await call(node, 'PUT', '/rooms/den/bans/bob', undefined, { cookie: cookies.alice! })).status).toBe(204);
    expect(await closedWithin(bob, banAt)).toMatchObject({ code: 4003, reason: 'banned' });
    expect(await refusedAs(node, 'den', cookies.bob)).toMatchObject({ status: 403, body: { code: 'banned' } });
  });
});
