import type { Directory, RoomInfo } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import type { TestNode } from '../helpers.js';
import { API_KEY } from '../redis/cluster-helpers.js';
import { SCOPED_KEY, claim, clusterPerTest, openAs, people, postWithKey, refusedAs } from './room-helpers.js';

describe('private rooms and direct conversations, on two nodes over Redis', () => {
  const { start, track } = clusterPerTest();

  it('refuses a non-member everywhere (upgrade, history, info, directory, keys out of scope) and gives a member everything', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'bob', 'carol');
    await claim(a, cookies.alice!, 'secret', 'private', 'plans');
    expect((await call(a, 'PUT', '/rooms/secret/members/bob', { role: 'member' }, { cookie: cookies.alice! })).status).toBe(200);

    // A member on the other node: socket, live messages from the owner's node, history, info.
    const owner = await openAs(a, 'secret', cookies.alice);
    const member = await openAs(b, 'secret', cookies.bob);
    track(owner);
    track(member);
    member.send({ type: 'chat.message', message: 'hello from b', nonce: 'n1' });
    await owner.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'hello from b', 'the member\'s message on node a');
    const history = await call(b, 'GET', '/rooms/secret/messages', undefined, { cookie: cookies.bob! });
    expect(history.status).toBe(200);
    expect((history.body as { messages: Array<{ message: string }> }).messages.map((m) => m.message)).toEqual(['hello from b']);
    const info = await call(b, 'GET', '/rooms/secret', undefined, { cookie: cookies.bob! });
    expect(info.body).toMatchObject({ room: 'secret', owner: 'alice', visibility: 'private', topic: 'plans' });
    expect((info.body as RoomInfo).members).toEqual([
      { username: 'alice', role: 'owner' },
      { username: 'bob', role: 'member' },
    ]);

    // A non-member, and a guest, on either node.
    for (const node of nodes) {
      expect(await refusedAs(node, 'secret', cookies.carol)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect(await refusedAs(node, 'secret')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect(await call(node, 'GET', '/rooms/secret/messages', undefined, { cookie: cookies.carol! })).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect(await call(node, 'GET', '/rooms/secret/messages')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
      expect((await call(node, 'GET', '/rooms/secret', undefined, { cookie: cookies.carol! })).status).toBe(403);
      expect((await call(node, 'POST', '/rooms/secret/messages', { message: 'let me in' }, { cookie: cookies.carol! })).status).toBe(403);
      // Online there, yet not in the directory, whoever asks.
      const directory = (await call(node, 'GET', '/rooms', undefined, { cookie: cookies.bob! })).body as Directory;
      expect(directory.rooms.map((room) => room.room)).not.toContain('secret');
    }

    // API keys: the unscoped one is refused here; the scoped one posts here and nowhere else.
    expect(await postWithKey(b, 'secret', API_KEY, 'unscoped')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect((await postWithKey(b, 'secret', SCOPED_KEY, 'scoped')).status).toBe(201);
    expect(await postWithKey(a, 'lobby', SCOPED_KEY, 'out of scope')).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    await owner.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'scoped', 'the scoped key\'s message');
    const bearer = (key: string) => ({ headers: { authorization: `Bearer ${key}` } });
    expect((await call(a, 'GET', '/rooms/secret/messages', undefined, bearer(SCOPED_KEY))).status).toBe(200);
    expect(await call(a, 'GET', '/rooms/secret/messages', undefined, bearer(API_KEY))).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    expect(owner.messages.map((m) => m.message)).not.toContain('unscoped');

    // Unclaimed rooms are as open as before.
    const lobby = await openAs(b, 'lobby');
    track(lobby);
    expect((await postWithKey(a, 'lobby', API_KEY, 'open as ever')).status).toBe(201);
    await lobby.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'open as ever', 'a message in an unclaimed room');
  });

  it('opens one direct conversation per pair whoever asks first, with both as members and nobody else', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'bob', 'carol');
    const fromAlice = await call(a, 'POST', '/dm/bob', undefined, { cookie: cookies.alice! });
    const fromBob = await call(b, 'POST', '/dm/Alice', undefined, { cookie: cookies.bob! });
    expect(fromAlice.status).toBe(200);
    const room = (fromAlice.body as { room: string }).room;
    expect(room).toMatch(/^dm-[A-Za-z0-9_-]+$/);
    expect(fromBob.body).toEqual({ room });

    const info = (await call(b, 'GET', `/rooms/${room}`, undefined, { cookie: cookies.bob! })).body as RoomInfo;
    expect(info).toMatchObject({ visibility: 'private', direct: true });
    expect(info.members.map((member) => member.username.toLowerCase()).sort()).toEqual(['alice', 'bob']);

    const alice = await openAs(a, room, cookies.alice);
    const bob = await openAs(b, room, cookies.bob);
    track(alice);
    track(bob);
    alice.send({ message: 'just us' });
    await bob.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'just us', 'the direct message');
    expect(await refusedAs(b, room, cookies.carol)).toMatchObject({ status: 403, body: { code: 'forbidden' } });
    // Nobody else joins it: no members added, no invites, nobody claims a dm- name by hand.
    expect((await call(a, 'PUT', `/rooms/${room}/members/carol`, { role: 'member' }, { cookie: cookies.alice! })).status).toBe(403);
    expect((await call(a, 'POST', `/rooms/${room}/invites`, { ttlSeconds: 600 }, { cookie: cookies.alice! })).status).toBe(403);
    expect((await call(a, 'POST', '/rooms', { room: 'dm-mine', visibility: 'public' }, { cookie: cookies.carol! })).status).toBe(403);
    // Carol's own conversation with bob is another room.
    const carols = await call(b, 'POST', '/dm/bob', undefined, { cookie: cookies.carol! });
    expect((carols.body as { room: string }).room).not.toBe(room);
    expect((await call(a, 'POST', '/dm/nobody-here', undefined, { cookie: cookies.alice! })).status).toBe(404);
    expect((await call(a, 'POST', '/dm/bob')).status).toBe(401);
  });

  it('claims once, invites by link until it expires, and lists public rooms in the directory with search and paging', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'bob', 'carol');
    await claim(a, cookies.alice!, 'club', 'private');
    expect(await call(b, 'POST', '/rooms', { room: 'club', visibility: 'public' }, { cookie: cookies.bob! })).toMatchObject({
      status: 409,
      body: { code: 'room_taken' },
    });
    expect((await call(b, 'POST', '/rooms', { room: 'club2', visibility: 'public' })).status).toBe(401);
    // Only the owner makes invites; a valid token makes the caller a member, a made-up one does not.
    expect((await call(b, 'POST', '/rooms/club/invites', { ttlSeconds: 600 }, { cookie: cookies.bob! })).status).toBe(403);
    const invite = await call(a, 'POST', '/rooms/club/invites', { ttlSeconds: 600 }, { cookie: cookies.alice! });
    expect(invite.status).toBe(201);
    const { token, expires } = invite.body as { token: string; expires: number };
    expect(expires).toBeGreaterThan(Date.now() + 500_000);
    expect((await call(b, 'POST', '/rooms/club/join', { token: 'made-up' }, { cookie: cookies.bob! })).status).toBe(403);
    expect((await call(b, 'POST', '/rooms/club/join', { token }, { cookie: cookies.bob! })).status).toBe(200);
    track(await openAs(b, 'club', cookies.bob));
    // Members may leave; then they are outside again.
    expect((await call(b, 'DELETE', '/rooms/club/members/bob', undefined, { cookie: cookies.bob! })).status).toBe(204);
    expect(await refusedAs(a, 'club', cookies.bob)).toMatchObject({ status: 403, body: { code: 'forbidden' } });

    for (const name of ['garden-a', 'garden-b', 'kitchen']) await claim(a, cookies.carol!, name, 'public', `the ${name}`);
    await claim(a, cookies.carol!, 'garden-hidden', 'unlisted');
    const found = (await call(b, 'GET', '/rooms?q=GARDEN')).body as Directory;
    expect(found.rooms.map((room) => room.room)).toEqual(['garden-a', 'garden-b']);
    expect(found.rooms[0]).toEqual({ room: 'garden-a', topic: 'the garden-a', members: 1, online: 0 });
    expect(found.cursor).toBeNull();
    expect((await call(b, 'GET', '/rooms?cursor=%%%')).status).toBe(400);
  });
});
