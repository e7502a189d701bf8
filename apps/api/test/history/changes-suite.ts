import { serializeFrame, type ChatMessage, type MessageState } from '@roomcast/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { ChangeRefused, type ChangeDraft, type DeleteDraft, type EditDraft, type ReactionDraft } from '../../src/history/room-events.js';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { RecordingChannel, type BackendFactory } from '../backends.js';
import { eventually } from '../helpers.js';

const post = (backend: Backend, message: string, user: string | null = 'alice') => backend.history.append({ room: 'lobby', user, message });
const edit = (target: string, message: string, user = 'alice'): EditDraft => ({ kind: 'edit', room: 'lobby', user, target, message, right: 'own' });
const remove = (target: string, user = 'alice'): DeleteDraft => ({ kind: 'delete', room: 'lobby', user, target, right: 'own' });
const react = (target: string, user: string, emoji = '👍', on?: boolean): ReactionDraft => ({
  kind: 'reaction',
  room: 'lobby',
  user,
  target,
  emoji,
  ...(on === undefined ? {} : { on }),
});

/** The whole kept history through `readBefore`, paging back `limit` at a time. */
async function allPages(backend: Backend, limit: number): Promise<MessageState[]> {
  const pages: MessageState[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await backend.history.readBefore('lobby', before, limit);
    expect(page.messages.length).toBeLessThanOrEqual(limit);
    pages.unshift(page.messages);
    if (!page.hasMore) return pages.flat();
    expect(page.messages).toHaveLength(limit);
    before = page.messages[0]!.id;
  }
}

/** Changes to messages (#13) in the room history's contract, run against every implementation. */
export function changesSuite(factory: BackendFactory): void {
  describe(`message changes in the room log (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('fans each change out with the frame it answers, byte for byte, typed by its kind', async () => {
      const backend = await factory.create();
      const member = new RecordingChannel(backend.layer.newChannelName());
      await backend.layer.groupAdd(roomGroup('lobby'), member);
      const message = await post(backend, 'first');
      const results = [
        await backend.history.change({ ...edit(message.id, 'He said "hi" \\o/ 👋🏽\nline'), mentions: ['bob'] }, { sender: member.name, nonce: 'e-1' }),
        await backend.history.change(react(message.id, 'api:bot'.slice(4), '🎉')),
        await backend.history.change({ ...react(message.id, 'bob'), user: null, guest: 'zoë' }),
        await backend.history.change(remove(message.id)),
      ];
      await eventually(() => member.events.length === 5, 5000, 'five events');
      const changes = member.events.slice(1);
      expect(changes.map((e) => e.type)).toEqual(['chat.edit', 'reaction', 'reaction', 'chat.delete']);
      for (const [index, event] of changes.entries()) expect(event.frame).toBe(serializeFrame(results[index]!.event));
      expect(changes[0]).toMatchObject({ sender: member.name, nonce: 'e-1' });
      expect(results[2]!.event).toMatchObject({ user: null, guest: 'zoë', on: true });
      // The log replays exactly what was fanned out, minus what the deletion took out.
      const replay = (await backend.history.readAfter('lobby', '0-0')).messages;
      expect(replay.map((entry) => serializeFrame(entry))).toEqual(changes.slice(1).map((e) => e.frame));
    });

    it('toggles a reaction, or sets it absolutely, and lists who reacted in order', async () => {
      const backend = await factory.create();
      const message = await post(backend, 'react to me');
      const on = await Promise.all([backend.history.change(react(message.id, 'bob')), backend.history.change(react(message.id, 'carol'))]);
      expect(on.map((r) => r.event.type === 'reaction' && r.event.on)).toEqual([true, true]);
      expect((await backend.history.change(react(message.id, 'bob'))).event).toMatchObject({ on: false });
      expect((await backend.history.change(react(message.id, 'carol', '👍', true))).event).toMatchObject({ on: true });
      await backend.history.change(react(message.id, 'bob', '👀', true));
      await backend.history.change(react(message.id, 'dave', '👀', false));
      const [state] = (await backend.history.readBefore('lobby', undefined, 10)).messages;
      expect(state!.reactions).toEqual({ '👍': ['carol'], '👀': ['bob'] });
    });

    it('refuses what the log does not allow, and lets no edit land after a deletion', async () => {
      const backend = await factory.create();
      const message = await post(backend, 'mine');
      const refusal = (draft: ChangeDraft) => backend.history.change(draft).then(() => 'stored', (error: unknown) => (error instanceof ChangeRefused ? error.code : String(error)));
      expect(await refusal(edit(message.id, 'x', 'mallory'))).toBe('forbidden');
      expect(await refusal({ ...edit(message.id, 'x'), via: 'api' })).toBe('forbidden');
      expect(await refusal({ ...remove(message.id), right: 'none' })).toBe('forbidden');
      expect(await refusal({ ...remove(message.id, 'mallory'), right: 'any' })).toBe('stored');
      expect(await refusal(edit('1-0', 'x'))).toBe('not_found');
      await expect(backend.history.append({ room: 'lobby', user: null, message: 'r', replyTo: '1-0' })).rejects.toBeInstanceOf(ChangeRefused);
      // Edits racing deletions: whatever wins, no edit is stored after its message's deletion.
      const targets: ChatMessage[] = [];
      for (let n = 0; n < 10; n += 1) targets.push(await post(backend, `race ${n}`));
      const outcomes = await Promise.all(targets.flatMap((t) => [refusal(edit(t.id, 'late')), refusal(remove(t.id)), refusal(edit(t.id, 'later'))]));
      expect(outcomes.filter((o) => o !== 'stored' && o !== 'not_found')).toEqual([]);
      const log = (await backend.history.readAfter('lobby', '0-0')).messages;
      const deletedAt = new Map(log.filter((e) => e.type === 'chat.delete').map((e) => [e.type === 'chat.delete' ? e.target : '', e.id]));
      expect(deletedAt.size).toBe(11);
      expect(log.filter((e) => e.type === 'chat.edit')).toEqual([]);
      expect((await backend.history.readBefore('lobby', undefined, 50)).messages.every((m) => m.deleted === true)).toBe(true);
    });

    it('pages hold `limit` messages however many changes and tombstones sit between them', async () => {
      const backend = await factory.create();
      const stored: ChatMessage[] = [];
      for (let n = 0; n < 9; n += 1) {
        stored.push(await post(backend, `m${n}`));
        for (const user of ['bob', 'carol', 'dave']) await backend.history.change(react(stored[n]!.id, user));
      }
      for (const n of [1, 4, 5, 8]) await backend.history.change(remove(stored[n]!.id));
      for (const limit of [1, 2, 3, 4, 50]) {
        const all = await allPages(backend, limit);
        expect(all.map((m) => m.id)).toEqual(stored.map((m) => m.id));
        expect(all.map((m) => (m.deleted ? 'x' : m.message))).toEqual(['m0', 'x', 'm2', 'm3', 'x', 'x', 'm6', 'm7', 'x']);
      }
    });

    it('finds the messages of a page across long stretches of changes', async () => {
      const backend = await factory.create();
      const first = await post(backend, 'first');
      for (let n = 0; n < 150; n += 1) await backend.history.change(react(first.id, `user${n}`));
      const second = await post(backend, 'second');
      for (let n = 0; n < 150; n += 1) await backend.history.change(react(second.id, `user${n}`, '👀'));
      const newest = await backend.history.readBefore('lobby', undefined, 1);
      expect(newest.messages.map((m) => m.message)).toEqual(['second']);
      expect(newest.hasMore).toBe(true);
      expect(newest.messages[0]!.reactions!['👀']).toHaveLength(150);
      const older = await backend.history.readBefore('lobby', second.id, 1);
      expect(older).toMatchObject({ messages: [{ id: first.id, message: 'first' }], hasMore: false });
    });

    it('trims changes with the log: a target older than the kept history is not found, its tombstone goes', async () => {
      const backend = await factory.create({ historyLimit: 4 });
      const old = await post(backend, 'old');
      const gone = await post(backend, 'gone');
      await backend.history.change(react(old.id, 'bob'));
      await backend.history.change(remove(gone.id));
      // Kept: old, reaction, deletion (3 entries; the deleted message's entry is gone).
      expect((await backend.history.readBefore('lobby', undefined, 10)).messages.map((m) => m.id)).toEqual([old.id, gone.id]);
      await post(backend, 'a');
      await post(backend, 'b');
      // old is trimmed: changes to it are refused; gone's tombstone stays until the trim passes it.
      await expect(backend.history.change(edit(old.id, 'x'))).rejects.toMatchObject({ code: 'not_found' });
      await expect(backend.history.change(react(old.id, 'carol'))).rejects.toMatchObject({ code: 'not_found' });
      expect((await backend.history.readBefore('lobby', undefined, 10)).messages.map((m) => m.message ?? 'x')).toEqual(['x', 'a', 'b']);
      await post(backend, 'c');
      const kept = (await backend.history.readBefore('lobby', undefined, 10)).messages;
      expect(kept.map((m) => m.message)).toEqual(['a', 'b', 'c']);
    });
  });
}
