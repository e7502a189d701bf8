import type { AuditList } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import { sleep, type TestNode } from '../helpers.js';
import { claim, closedWithin, clusterPerTest, openAs, people, refusedAs } from './room-helpers.js';

/** Sockets must close on every node within this (the bound). */
const CLOSE_BOUND_MS = 2000;

describe('moderation on two nodes over Redis', () => {
  const { start, track } = clusterPerTest();

  it("removing a member and banning a user close their sockets on both nodes at once; a ban refuses reconnect, post and read until lifted", async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'bob', 'carol', 'dave');
    await claim(a, cookies.alice!, 'club', 'private');
    for (const name of ['bob', 'carol', 'dave']) await call(a, 'PUT', `/rooms/club/members/${name}`, { role: 'member' }, { cookie: cookies.alice! });
    const bobs = [track(await openAs(a, 'club', cookies.bob)), track(await openAs(b, 'club', cookies.bob))];
    const carols = [track(await openAs(a, 'club', cookies.carol)), track(await openAs(b, 'club', cookies.carol))];
    const dave = track(await openAs(b, 'club', cookies.dave));

    // Removed from a private room: both of bob's sockets close with 4003, and he stays out.
    let started = Date.now();
    expect((await call(b, 'DELETE', '/rooms/club/members/bob', undefined, { cookie: cookies.alice! })).status).toBe(204);
    for (const socket of bobs) expect(await closedWithin(socket, started)).toMatchObject({ code: 4003, reason: 'removed', ms: expect.any(Number) });
    for (const socket of bobs) expect((await closedWithin(socket, started)).ms).toBeLessThan(CLOSE_BOUND_MS);
    expect(await refusedAs(a, 'club', cookies.bob)).toMatchObject({ status: 403, body: { code: 'forbidden' } });

    // Banned: carol's sockets on both nodes close with 4003 "banned"; dave's stays open.
    started = Date.now();
    expect((await call(a, 'PUT', '/rooms/club/bans/carol', undefined, { cookie: cookies.alice! })).status).toBe(204);
    for (const socket of carols) {
      const closed = await closedWithin(socket, started);
      expect(closed).toMatchObject({ code: 4003, reason: 'banned' });
      expect(closed.ms).toBeLessThan(CLOSE_BOUND_MS);
    }
    for (const node of nodes) {
      expect(await refusedAs(node, 'club', cookies.carol)).toMatchObject({ status: 403, body: { code: 'banned' } });
      expect(await call(node, 'GET', '/rooms/club/messages', undefined, { cookie: cookies.carol! })).toMatchObject({ status: 403, body: { code: 'banned' } });
      expect(await call(node, 'POST', '/rooms/club/messages', { message: 'still here?' }, { cookie: cookies.carol! })).toMatchObject({
        status: 403,
        body: { code: 'banned' },
      });
    }
    dave.send({ message: 'dave is fine' });
    await dave.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'dave is fine', 'dave\'s own message');

    // Lifted: carol (still a member) is back, reading and posting.
    expect((await call(b, 'DELETE', '/rooms/club/bans/carol', undefined, { cookie: cookies.alice! })).status).toBe(204);
    track(await openAs(b, 'club', cookies.carol));
    expect((await call(a, 'GET', '/rooms/club/messages', undefined, { cookie: cookies.carol! })).status).toBe(200);
    expect((await call(a, 'POST', '/rooms/club/messages', { message: 'back' }, { cookie: cookies.carol! })).status).toBe(201);

    const audit = (await call(a, 'GET', '/rooms/club/audit', undefined, { cookie: cookies.alice! })).body as AuditList;
    expect(audit.entries.slice(0, 3).map(({ action, by, target }) => ({ action, by, target }))).toEqual([
      { action: 'unban', by: 'alice', target: 'carol' },
      { action: 'ban', by: 'alice', target: 'carol' },
      { action: 'remove', by: 'alice', target: 'bob' },
    ]);
    expect(audit.entries.every((entry) => typeof entry.ts === 'number')).toBe(true);
    expect((await call(a, 'GET', '/rooms/club/audit', undefined, { cookie: cookies.dave! })).status).toBe(403);
  });

  it('moderators ban guests by name and kick users across nodes; members may not moderate', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'mod', 'bob');
    await claim(a, cookies.alice!, 'plaza', 'public');
    await call(a, 'PUT', '/rooms/plaza/members/mod', { role: 'moderator' }, { cookie: cookies.alice! });
    await call(a, 'PUT', '/rooms/plaza/members/bob', { role: 'member' }, { cookie: cookies.alice! });
    const troll = track(await openAs(b, 'plaza', undefined, { name: 'troll' }));
    const bob = track(await openAs(a, 'plaza', cookies.bob));

    expect((await call(b, 'PUT', '/rooms/plaza/bans/guest:troll', undefined, { cookie: cookies.bob! })).status).toBe(403);
    expect((await call(b, 'PUT', '/rooms/plaza/bans/alice', undefined, { cookie: cookies.mod! })).status).toBe(403);
    expect((await call(b, 'PUT', '/rooms/plaza/bans/not a name', undefined, { cookie: cookies.mod! })).status).toBe(400);

    let started = Date.now();
    expect((await call(a, 'PUT', '/rooms/plaza/bans/guest:Troll', undefined, { cookie: cookies.mod! })).status).toBe(204);
    const closed = await closedWithin(troll, started);
    expect(closed).toMatchObject({ code: 4003, reason: 'banned' });
    expect(closed.ms).toBeLessThan(CLOSE_BOUND_MS);
    expect(await refusedAs(a, 'plaza', undefined, '?name=troll')).toMatchObject({ status: 403, body: { code: 'banned' } });
    track(await openAs(a, 'plaza', undefined, { name: 'visitor' }));

    // A kick closes the sockets; unlike a ban, bob may come straight back.
    started = Date.now();
    expect((await call(b, 'POST', '/rooms/plaza/kicks/bob', undefined, { cookie: cookies.mod! })).status).toBe(204);
    expect(await closedWithin(bob, started)).toMatchObject({ code: 4003, reason: 'kicked' });
    track(await openAs(b, 'plaza', cookies.bob));

    const audit = (await call(a, 'GET', '/rooms/plaza/audit', undefined, { cookie: cookies.alice! })).body as AuditList;
    expect(audit.entries.slice(0, 2).map(({ action, by, target }) => ({ action, by, target }))).toEqual([
      { action: 'kick', by: 'mod', target: 'bob' },
      { action: 'ban', by: 'mod', target: 'guest:troll' },
    ]);
  });

  it('slow mode holds per user across nodes and tells the sender when it may post again', async () => {
    const nodes = await start();
    const [a, b] = nodes as [TestNode, TestNode];
    const cookies = await people(nodes, 'alice', 'bob', 'carol');
    await claim(a, cookies.alice!, 'calm', 'public');
    const bob = track(await openAs(a, 'calm', cookies.bob));
    const slowModeMs = 3000;
    // Members may not set it; the owner may (and open sockets follow at once).
    expect((await call(b, 'PATCH', '/rooms/calm', { slowModeMs }, { cookie: cookies.bob! })).status).toBe(403);
    expect((await call(b, 'PATCH', '/rooms/calm', { slowModeMs }, { cookie: cookies.alice! })).body).toMatchObject({ slowModeMs });
    await sleep(200);

    bob.send({ type: 'chat.message', message: 'first', nonce: 'b1' });
    await bob.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'first', 'the first message');
    bob.send({ type: 'chat.message', message: 'too soon', nonce: 'b2' });
    const refused = await bob.waitFor<{ type: 'error'; code: string; reason: string; retryAfterMs: number; nonce: string }>(
      (frame) => frame.type === 'error' && frame.nonce === 'b2',
      'the slow-mode refusal',
    );
    expect(refused.code).toBe('rate_limited');
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(slowModeMs);
    // The same person over HTTP on the other node is held too, and told how long.
    const overHttp = await call(b, 'POST', '/rooms/calm/messages', { message: 'via http' }, { cookie: cookies.bob! });
    expect(overHttp).toMatchObject({ status: 429, body: { code: 'rate_limited' } });
    expect((overHttp.body as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(0);
    expect(Number(overHttp.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Other people have their own clocks; the owner is not slowed.
    expect((await call(b, 'POST', '/rooms/calm/messages', { message: 'carol' }, { cookie: cookies.carol! })).status).toBe(201);
    expect((await call(b, 'POST', '/rooms/calm/messages', { message: 'owner 1' }, { cookie: cookies.alice! })).status).toBe(201);
    expect((await call(b, 'POST', '/rooms/calm/messages', { message: 'owner 2' }, { cookie: cookies.alice! })).status).toBe(201);

    await sleep(refused.retryAfterMs + 200);
    bob.send({ type: 'chat.message', message: 'later', nonce: 'b3' });
    await bob.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'later', 'the message after waiting');
    expect(bob.messages.map((m) => m.message)).not.toContain('too soon');
  });
});
