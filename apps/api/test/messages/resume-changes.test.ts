import type { ChatMessage, MessagesPage, MyRooms } from '@roomcast/protocol';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, login, register } from '../auth-helpers.js';
import { TestSocket, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { loadConfig, readHistory, startNodes } from '../redis/cluster-helpers.js';
import { fold, logFrames, sendAndWait } from './message-helpers.js';

/**
 * Two nodes on one Redis: what a client that was away gets by resuming with `since` on the
 * other node, folded, is exactly the state `GET` answers; a deletion leaves the text nowhere in
 * Redis; read positions and counts are the same from either node and either session.
 */
describe('edits, deletions and reactions across two nodes (Redis)', () => {
  let redis: TestRedis;
  let nodes: TestNode[];
  beforeAll(async () => {
    redis = await startRedis();
    nodes = await startNodes(2, loadConfig(redis.url));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await redis.stop();
  });

  it('a client away during the changes resumes on the other node and folds to what GET answers', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    const alice = await TestSocket.open(a.url, 'resume', { headers: { cookie: await register(a, 'alice') } });
    const bob = await TestSocket.open(a.url, 'resume', { headers: { cookie: await register(a, 'bob') } });
    const sent: ChatMessage[] = [];
    for (let n = 0; n < 6; n += 1) sent.push((await sendAndWait(n % 2 ? bob : alice, { type: 'chat.message', message: `m${n} secret-${n}` }, `m${n}`)) as ChatMessage);
    await bob.waitFor((f) => f.type === 'chat.message' && f.id === sent[5]!.id);
    // Carol saw everything so far, then goes away.
    const carolCookie = await register(a, 'carol');
    const carol = await TestSocket.open(a.url, 'resume', { headers: { cookie: carolCookie }, since: '0-0' });
    await carol.waitFor((f) => f.type === 'recovered');
    await carol.close();
    const since = logFrames(carol).at(-1)!.id;

    await sendAndWait(alice, { type: 'chat.edit', target: sent[0]!.id, message: 'm0 edited' }, 'e1');
    await sendAndWait(alice, { type: 'chat.edit', target: sent[2]!.id, message: 'm2 edited secret-edit' }, 'e2');
    await sendAndWait(bob, { type: 'reaction', target: sent[0]!.id, emoji: '🎉' }, 'r1');
    await sendAndWait(alice, { type: 'reaction', target: sent[0]!.id, emoji: '🎉' }, 'r2');
    await sendAndWait(bob, { type: 'reaction', target: sent[0]!.id, emoji: '🎉' }, 'r3');
    await sendAndWait(bob, { type: 'chat.delete', target: sent[1]!.id }, 'd1');
    await sendAndWait(alice, { type: 'chat.delete', target: sent[2]!.id }, 'd2');
    await sendAndWait(bob, { type: 'chat.message', message: `reply @alice`, replyTo: sent[0]!.id }, 'm6');

    const back = await TestSocket.open(b.url, 'resume', { headers: { cookie: carolCookie }, since });
    await back.waitFor((f) => f.type === 'recovered', 'the end of the resume');
    const missed = logFrames(back);
    expect(missed.map((f) => f.type)).toEqual(['chat.edit', 'reaction', 'reaction', 'reaction', 'chat.delete', 'chat.delete', 'chat.message']);
    // The edit of a message deleted since is gone from the log with its text.
    expect(missed.some((f) => f.type === 'chat.edit' && f.target === sent[2]!.id)).toBe(false);
    const state = await readHistory(b.url, 'resume');
    expect(fold([...logFrames(carol), ...missed])).toEqual(state);
    expect(state.find((m) => m.id === sent[2]!.id)).toEqual({ type: 'chat.message', id: sent[2]!.id, room: 'resume', user: 'alice', ts: sent[2]!.ts, deleted: true });
    expect(state.at(-1)).toMatchObject({ replyTo: sent[0]!.id, mentions: ['alice'] });

    // The deleted texts (and the deleted message's edit) are nowhere in Redis.
    const admin = new Redis(redis.url);
    try {
      const dump: string[] = [];
      for (const key of await admin.keys('*')) {
        const type = await admin.type(key);
        if (type === 'stream') dump.push(JSON.stringify(await admin.xrange(key, '-', '+')));
        else if (type === 'hash') dump.push(JSON.stringify(await admin.hgetall(key)));
        else if (type === 'string') dump.push((await admin.get(key)) ?? '');
        else if (type === 'zset') dump.push(JSON.stringify(await admin.zrange(key, '0', '-1')));
        else if (type === 'set') dump.push(JSON.stringify(await admin.smembers(key)));
      }
      const everything = dump.join('\n');
      expect(everything).toContain('secret-0');
      for (const gone of ['secret-1', 'secret-2', 'secret-edit']) expect(everything).not.toContain(gone);
    } finally {
      admin.disconnect();
    }
    await Promise.all([alice.close(), bob.close(), back.close()]);
  });

  it('unread and mention counts follow reads across two sessions of one user on two nodes', async () => {
    const [a, b] = nodes as [TestNode, TestNode];
    const dave = await register(a, 'dave');
    const daveOnB = await login(b, 'dave');
    const erin = await register(b, 'erin');
    const origin = (node: TestNode) => ({ origin: node.url });
    const post = async (node: TestNode, cookie: string, room: string, message: string) =>
      (await call(node, 'POST', `/rooms/${room}/messages`, { message }, { cookie, ...origin(node) })).body as ChatMessage;
    await post(a, dave, 'unread-1', 'hi all');
    const m1 = await post(b, erin, 'unread-1', 'hello @dave');
    const m2 = await post(b, erin, 'unread-1', 'anyone?');
    await post(b, erin, 'unread-2', 'over here @dave');
    // dave is in unread-1 (posted); unread-2 is not his until he reads it.
    const roomsOf = async (node: TestNode, cookie: string) => ((await call(node, 'GET', '/me/rooms', undefined, { cookie })).body as MyRooms).rooms;
    expect(await roomsOf(b, daveOnB)).toEqual([{ room: 'unread-1', unread: 2, mentions: 1, lastId: m2.id }]);
    expect((await call(a, 'PUT', '/rooms/unread-1/read', { id: m1.id }, { cookie: dave, ...origin(a) })).status).toBe(204);
    expect(await roomsOf(b, daveOnB)).toEqual([{ room: 'unread-1', unread: 1, mentions: 0, lastId: m2.id, readId: m1.id }]);
    // An older position from the other session does not move it back.
    expect((await call(b, 'PUT', '/rooms/unread-1/read', { id: '1-0' }, { cookie: daveOnB, ...origin(b) })).status).toBe(204);
    expect(await roomsOf(a, dave)).toEqual([{ room: 'unread-1', unread: 1, mentions: 0, lastId: m2.id, readId: m1.id }]);
    // Deleting a message takes it out of the counts.
    expect((await call(b, 'DELETE', `/rooms/unread-1/messages/${m2.id}`, undefined, { cookie: erin, ...origin(b) })).status).toBe(204);
    expect((await roomsOf(a, dave))[0]).toMatchObject({ unread: 0 });
    // Reading a room makes it one of the user's rooms.
    const page = (await call(b, 'GET', '/rooms/unread-2/messages')).body as MessagesPage;
    expect(page.messages[0]!.mentions).toBeUndefined(); // dave was not of unread-2 when named
    await call(b, 'PUT', '/rooms/unread-2/read', { id: '1-0' }, { cookie: daveOnB, ...origin(b) });
    expect((await roomsOf(a, dave)).map((r) => [r.room, r.unread])).toEqual([
      ['unread-2', 1],
      ['unread-1', 0],
    ]);
    expect((await call(a, 'GET', '/me/rooms')).status).toBe(401);
    expect((await call(a, 'PUT', '/rooms/unread-1/read', { id: m1.id })).status).toBe(401);
  });
});

