import type { ChatMessage, ErrorFrame, MessagesPage, RoomEventFrame } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call } from '../auth-helpers.js';
import { TestSocket, UNLIMITED_SENDS, sleep, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { fold, logFrames, sendAndWait, signedIn } from './message-helpers.js';

const BACKENDS = ['memory', 'redis'] as const;

for (const backend of BACKENDS) {
  describe(`edits, deletions, reactions and replies over sockets (${backend})`, () => {
    let redis: TestRedis | undefined;
    const nodes: TestNode[] = [];
    const sockets: TestSocket[] = [];
    const start = async (): Promise<TestNode> => {
      if (backend === 'redis') redis ??= await startRedis();
      const node = await startNode({ ...UNLIMITED_SENDS, ...(redis ? { redisUrl: redis.url } : {}) });
      nodes.push(node);
      return node;
    };
    afterEach(async () => {
      await Promise.all(sockets.splice(0).map((socket) => socket.close()));
      await Promise.all(nodes.splice(0).map((node) => node.close()));
      await redis?.stop();
      redis = undefined;
    });

    it('fans out each change in the log’s one order, and GET answers the folded state', async () => {
      const node = await start();
      const alice = await signedIn(node, 'lobby', 'alice');
      const bob = await signedIn(node, 'lobby', 'bob');
      sockets.push(alice.socket, bob.socket);
      const first = (await sendAndWait(alice.socket, { type: 'chat.message', message: 'helo @bob' }, 'm1')) as ChatMessage;
      expect(first.mentions).toEqual(['bob']);
      const reply = (await sendAndWait(bob.socket, { type: 'chat.message', message: 'hi', replyTo: first.id }, 'm2')) as ChatMessage;
      expect(reply.replyTo).toBe(first.id);
      const edit = (await sendAndWait(alice.socket, { type: 'chat.edit', target: first.id, message: 'hello @bob @nobody' }, 'e1')) as RoomEventFrame;
      expect(edit).toMatchObject({ type: 'chat.edit', target: first.id, message: 'hello @bob @nobody', mentions: ['bob'], user: 'alice' });
      const on = await sendAndWait(bob.socket, { type: 'reaction', target: first.id, emoji: '👍' }, 'r1');
      expect(on).toMatchObject({ type: 'reaction', on: true, user: 'bob', emoji: '👍' });
      await sendAndWait(alice.socket, { type: 'reaction', target: first.id, emoji: '👍' }, 'r2');
      const off = await sendAndWait(bob.socket, { type: 'reaction', target: first.id, emoji: '👍' }, 'r3');
      expect(off).toMatchObject({ on: false });
      await sendAndWait(bob.socket, { type: 'reaction', target: reply.id, emoji: '🎉' }, 'r4');
      const deleted = await sendAndWait(bob.socket, { type: 'chat.delete', target: reply.id }, 'd1');
      expect(deleted).toMatchObject({ type: 'chat.delete', target: reply.id, user: 'bob' });
      expect(deleted).not.toHaveProperty('message');

      await alice.socket.waitFor((f) => f.type === 'chat.delete', 'the deletion at alice');
      const page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages).toEqual([
        { type: 'chat.message', id: first.id, room: 'lobby', user: 'alice', message: 'hello @bob @nobody', mentions: ['bob'], ts: first.ts, edited: edit.ts, reactions: { '👍': ['alice'] } },
        { type: 'chat.message', id: reply.id, room: 'lobby', user: 'bob', ts: reply.ts, deleted: true },
      ]);
      expect(fold(logFrames(alice.socket))).toEqual(page.messages);
      // The IDs of changes follow the messages' in one sequence.
      const ids = logFrames(alice.socket).map((f) => f.id);
      expect([...ids].sort()).toEqual(ids);
    });

    it('refuses changing someone else’s message, a guest’s change, an unknown target and a reply to nothing', async () => {
      const node = await start();
      const alice = await signedIn(node, 'lobby', 'alice');
      const mallory = await signedIn(node, 'lobby', 'mallory');
      const guest = await TestSocket.open(node.url, 'lobby', { query: { name: 'eve' } });
      const anonymous = await TestSocket.open(node.url, 'lobby');
      sockets.push(alice.socket, mallory.socket, guest, anonymous);
      const mine = (await sendAndWait(alice.socket, { type: 'chat.message', message: 'mine' }, 'm1')) as ChatMessage;
      const refusals: Array<[TestSocket, Record<string, unknown>, string]> = [
        [mallory.socket, { type: 'chat.edit', target: mine.id, message: 'pwned' }, 'forbidden'],
        [mallory.socket, { type: 'chat.delete', target: mine.id }, 'forbidden'],
        [guest, { type: 'chat.edit', target: mine.id, message: 'pwned' }, 'forbidden'],
        [guest, { type: 'chat.delete', target: mine.id }, 'forbidden'],
        [anonymous, { type: 'reaction', target: mine.id, emoji: '👍' }, 'forbidden'],
        [alice.socket, { type: 'chat.edit', target: '1-0', message: 'x' }, 'not_found'],
        [alice.socket, { type: 'chat.message', message: 'x', replyTo: '1-0' }, 'not_found'],
      ];
      for (const [n, [socket, frame, code]] of refusals.entries()) {
        const answer = (await sendAndWait(socket, frame, `x${n}`)) as ErrorFrame;
        expect(answer, JSON.stringify(frame)).toMatchObject({ type: 'error', code });
      }
      // An event's own ID is not a message: nothing targets a change.
      const reaction = (await sendAndWait(guest, { type: 'reaction', target: mine.id, emoji: '👀' }, 'ok1')) as RoomEventFrame;
      expect(reaction).toMatchObject({ type: 'reaction', guest: 'eve', user: null, on: true });
      expect(await sendAndWait(alice.socket, { type: 'chat.edit', target: reaction.id, message: 'x' }, 'x9')).toMatchObject({ code: 'not_found' });
      // Deleted: gone for edits and reactions too.
      await sendAndWait(alice.socket, { type: 'chat.delete', target: mine.id }, 'd1');
      expect(await sendAndWait(alice.socket, { type: 'chat.edit', target: mine.id, message: 'back' }, 'x10')).toMatchObject({ code: 'not_found' });
      expect(await sendAndWait(guest, { type: 'reaction', target: mine.id, emoji: '👍' }, 'x11')).toMatchObject({ code: 'not_found' });
      const page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages).toEqual([{ type: 'chat.message', id: mine.id, room: 'lobby', user: 'alice', ts: mine.ts, deleted: true }]);
    });

    it('stores a resent change once (same nonce), and a chat-only client sees only chat messages', async () => {
      const node = await start();
      const alice = await signedIn(node, 'lobby', 'alice');
      const chatOnly = TestSocket.connect(node.url, 'lobby', { protocols: [] });
      sockets.push(alice.socket, chatOnly);
      await chatOnly.opened;
      await sleep(300);
      const mine = (await sendAndWait(alice.socket, { type: 'chat.message', message: 'one' }, 'm1')) as ChatMessage;
      const first = (await sendAndWait(alice.socket, { type: 'reaction', target: mine.id, emoji: '👍' }, 'r1')) as RoomEventFrame;
      alice.socket.send({ type: 'reaction', target: mine.id, emoji: '👍', nonce: 'r1' });
      await sendAndWait(alice.socket, { type: 'chat.edit', target: mine.id, message: 'uno' }, 'e1');
      const copies = alice.socket.frames.filter((f) => 'nonce' in f && f.nonce === 'r1');
      expect(copies).toHaveLength(2);
      expect(copies[1]).toEqual(copies[0]);
      expect(copies[0]!.type === 'reaction' && copies[0]!.id).toBe(first.id);
      alice.socket.send({ type: 'chat.message', message: 'two' });
      await chatOnly.waitForMessages(2);
      await sleep(200);
      expect(chatOnly.raw.map((text) => JSON.parse(text).type)).toEqual(expect.arrayContaining(['chat.message']));
      expect(new Set(chatOnly.raw.map((text) => JSON.parse(text).type))).toEqual(new Set(['chat.message']));
      const page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages[0]).toMatchObject({ message: 'uno', reactions: { '👍': ['alice'] } });
      // Resuming, too, it gets the messages and none of the changes.
      const resumed = TestSocket.connect(node.url, 'lobby', { protocols: [], since: '0-0' });
      sockets.push(resumed);
      await resumed.waitForMessages(2);
      await sleep(300);
      expect(resumed.raw.map((text) => JSON.parse(text).type)).toEqual(['chat.message', 'chat.message']);
    });
  });
}
