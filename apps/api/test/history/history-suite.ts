import { compareMessageIds, serializeFrame, withNonce, type ChatMessage } from '@roomcast/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { frameBytesEstimate } from '../../src/history/room-history.js';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { RecordingChannel, type BackendFactory } from '../backends.js';
import { eventually } from '../helpers.js';

const draft = (message: string, user: string | null = null, room = 'lobby') => ({ room, user, message });

/** The room history's contract, run against every implementation. */
export function historySuite(factory: BackendFactory): void {
  describe(`room history (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('assigns increasing IDs and the ID’s time, and reads back oldest first', async () => {
      const { history } = await factory.create();
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 5; n += 1) stored.push(await history.append(draft(`m${n}`, n % 2 ? 'alice' : null)));
      for (let n = 1; n < stored.length; n += 1) expect(compareMessageIds(stored[n - 1]!.id, stored[n]!.id)).toBeLessThan(0);
      expect(stored[0]!.ts).toBe(Number(stored[0]!.id.split('-')[0]));
      expect(Math.abs(stored[0]!.ts - Date.now())).toBeLessThan(60_000);
      const page = await history.readBefore('lobby', undefined, 50);
      expect(page).toEqual({ messages: stored, hasMore: false });
      expect(page.messages.map((m) => m.user)).toEqual([null, 'alice', null, 'alice', null]);
    });

    it('pages backwards with before and hasMore', async () => {
      const { history } = await factory.create();
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 7; n += 1) stored.push(await history.append(draft(`m${n}`)));
      const newest = await history.readBefore('lobby', undefined, 3);
      expect(newest).toEqual({ messages: stored.slice(4), hasMore: true });
      const middle = await history.readBefore('lobby', newest.messages[0]!.id, 3);
      expect(middle).toEqual({ messages: stored.slice(1, 4), hasMore: true });
      const oldest = await history.readBefore('lobby', middle.messages[0]!.id, 3);
      expect(oldest).toEqual({ messages: stored.slice(0, 1), hasMore: false });
      expect(await history.readBefore('empty-room', undefined, 3)).toEqual({ messages: [], hasMore: false });
    });

    it('reads everything after an ID, complete while nothing after it was trimmed', async () => {
      const { history } = await factory.create({ historyLimit: 5 });
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 8; n += 1) stored.push(await history.append(draft(`m${n}`)));
      // Kept: m3..m7. Trimmed through m2.
      expect((await history.readBefore('lobby', undefined, 200)).messages).toEqual(stored.slice(3));
      expect(await history.readAfter('lobby', stored[5]!.id)).toEqual({ messages: stored.slice(6), complete: true });
      expect(await history.readAfter('lobby', stored[2]!.id)).toEqual({ messages: stored.slice(3), complete: true });
      expect(await history.readAfter('lobby', stored[1]!.id)).toEqual({ messages: stored.slice(3), complete: false });
      expect(await history.readAfter('lobby', stored[7]!.id)).toEqual({ messages: [], complete: true });
      expect(await history.readAfter('never-used', '1-0')).toEqual({ messages: [], complete: true });
    });

    it('keeps exactly the newest messages after every append, and knows what it trimmed', async () => {
      const limit = 8;
      const { history } = await factory.create({ historyLimit: limit });
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 3 * limit + 3; n += 1) {
        stored.push(await history.append(draft(`m${n}`)));
        const kept = stored.slice(-limit);
        expect((await history.readBefore('lobby', undefined, 200)).messages).toEqual(kept);
        expect(await history.readBefore('lobby', kept[0]!.id, 200)).toEqual({ messages: [], hasMore: false });
        expect(await history.readBefore('lobby', kept.at(-1)!.id, 2)).toEqual({
          messages: kept.slice(-3, -1),
          hasMore: kept.length > 3,
        });
        expect(await history.readAfter('lobby', kept[0]!.id)).toEqual({ messages: kept.slice(1), complete: true });
        // After the newest trimmed message nothing is missing; from before it, something is.
        const newestTrimmed = stored.length - limit - 1;
        if (newestTrimmed >= 0) {
          expect(await history.readAfter('lobby', stored[newestTrimmed]!.id)).toEqual({ messages: kept, complete: true });
        }
        if (newestTrimmed >= 1) expect(await history.readAfter('lobby', stored[0]!.id)).toEqual({ messages: kept, complete: false });
      }
    });

    it('fans each message out to the room’s group with the frame it stores, in log order', async () => {
      const backend = await factory.create();
      const { history, layer } = backend;
      const member = new RecordingChannel(layer.newChannelName());
      const elsewhere = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('lobby'), member);
      await layer.groupAdd(roomGroup('kitchen'), elsewhere);
      const texts = Array.from({ length: 100 }, (_, n) => `concurrent ${n}`);
      const stored = await Promise.all(texts.map((text) => history.append(draft(text), { sender: member.name, nonce: `n-${text.replace(' ', '-')}` })));
      await eventually(() => member.events.length === 100, 10_000, '100 fanned-out messages');
      const log = (await history.readBefore('lobby', undefined, 200)).messages;
      expect(member.events.map((e) => e.id)).toEqual(log.map((m) => m.id));
      const byId = new Map(stored.map((message) => [message.id, message]));
      for (const event of member.events) {
        const message = byId.get(event.id!)!;
        expect(event).toMatchObject({ type: 'chat.message', sender: member.name, nonce: `n-${message.message.replace(' ', '-')}` });
        // Byte for byte the frame the embedded backend would send.
        expect(event.frame).toBe(serializeFrame(message));
      }
      expect(elsewhere.events).toHaveLength(0);
    });

    it('reads after an ID in pages, and works out where a replay capped in bytes starts', async () => {
      const { history } = await factory.create();
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 30; n += 1) stored.push(await history.append(draft(`${n} ${'é'.repeat(100)}`, n % 3 ? 'alice' : null)));
      expect(await history.readAfter('lobby', stored[4]!.id, 10)).toEqual({ messages: stored.slice(5, 15), complete: true });
      expect(await history.readAfter('lobby', stored[25]!.id, 10)).toEqual({ messages: stored.slice(26), complete: true });
      expect(await history.replayStart('lobby', '0-0', 1_000_000)).toEqual({ after: '0-0', cut: false });
      expect(await history.replayStart('lobby', stored[20]!.id, 1_000_000)).toEqual({ after: stored[20]!.id, cut: false });
      // Room for the newest ten and a bit: the eleventh from the end is where the replay starts
      // after, by the same estimate on both backends (the Redis script counts it in Lua).
      const tenth = stored.slice(20).reduce((sum, message) => sum + frameBytesEstimate(message), 0);
      const start = await history.replayStart('lobby', '0-0', tenth + 50);
      expect(start).toEqual({ after: stored[19]!.id, cut: true });
      expect(await history.replayStart('lobby', stored[19]!.id, tenth + 50)).toEqual({ after: stored[19]!.id, cut: false });
      expect(await history.replayStart('lobby', stored[18]!.id, tenth + 50)).toEqual({ after: stored[19]!.id, cut: true });
      expect(await history.replayStart('empty-room', '0-0', 100)).toEqual({ after: '0-0', cut: false });
    });

    it('keeps any text intact: quotes, backslashes, markup, emoji, newlines', async () => {
      const backend = await factory.create();
      const member = new RecordingChannel(backend.layer.newChannelName());
      await backend.layer.groupAdd(roomGroup('lobby'), member);
      const text = 'He said "hi" \\o/ </script><b>x</b> 👋🏽 café\nline two\ttab \u2028 {"json":true}';
      const stored = await backend.history.append(draft(text, 'zoë'), { sender: 'x', nonce: 'a"b\\c' });
      expect(stored.message).toBe(text);
      await eventually(() => member.events.length === 1, 5000, 'the message');
      const frame = JSON.parse(member.events[0]!.frame) as ChatMessage;
      expect(frame).toEqual(stored);
      expect(JSON.parse(withNonce(member.events[0]!.frame, member.events[0]!.nonce!))).toMatchObject({ nonce: 'a"b\\c' });
      expect((await backend.history.readAfter('lobby', '0-1')).messages).toEqual([stored]);
    });
  });
}
