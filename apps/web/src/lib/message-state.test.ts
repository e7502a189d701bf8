import type { ChatDeleteFrame, ChatEditFrame, MessageState, ReactionFrame } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { applyChange, reactorName, type MessageChange } from './message-state.js';
import { buildTimeline, firstLine } from './timeline.js';

const message = (seq: number, user: string | null = 'alice', extra: Partial<MessageState> = {}): MessageState => ({
  type: 'chat.message',
  id: `${seq}-0`,
  room: 'r',
  user,
  message: `m${seq}`,
  ts: seq,
  ...extra,
});
const edit = (target: string, text: string, ts: number, mentions?: string[]): ChatEditFrame => ({
  type: 'chat.edit',
  id: `${ts}-1`,
  room: 'r',
  target,
  message: text,
  user: 'alice',
  ts,
  ...(mentions ? { mentions } : {}),
});
const remove = (target: string, ts: number): ChatDeleteFrame => ({ type: 'chat.delete', id: `${ts}-1`, room: 'r', target, user: 'alice', ts });
const react = (target: string, emoji: string, on: boolean, actor: Partial<ReactionFrame> = {}): ReactionFrame => ({
  type: 'reaction',
  id: '50-1',
  room: 'r',
  target,
  emoji,
  on,
  user: 'bob',
  ts: 50,
  ...actor,
});
const applyAll = (messages: MessageState[], changes: MessageChange[]) => changes.reduce<readonly MessageState[]>(applyChange, messages);

describe('applyChange', () => {
  it('replaces the text and mentions of an edited message and marks when', () => {
    const [, second] = applyAll([message(1), message(2, 'alice', { mentions: ['bob'] })], [edit('2-0', 'hi @carol', 10, ['carol'])]);
    expect(second).toEqual({ ...message(2), message: 'hi @carol', edited: 10, mentions: ['carol'] });
  });

  it('turns a deleted message into a tombstone without text, mentions or reactions', () => {
    const [gone] = applyAll([message(1, 'alice', { mentions: ['bob'], reactions: { '👍': ['bob'] }, replyTo: '0-1' })], [remove('1-0', 10)]);
    expect(gone).toEqual({ type: 'chat.message', id: '1-0', room: 'r', user: 'alice', ts: 1, replyTo: '0-1', deleted: true });
  });

  it('counts reactions per emoji in order, and takes one back', () => {
    const [state] = applyAll(
      [message(1)],
      [react('1-0', '👍', true), react('1-0', '👍', true, { user: null, guest: 'rosa' }), react('1-0', '🎉', true), react('1-0', '🎉', false)],
    );
    expect(state!.reactions).toEqual({ '👍': ['bob', 'guest:rosa'] });
    const [cleared] = applyAll([state!], [react('1-0', '👍', false), react('1-0', '👍', false, { user: null, guest: 'rosa' })]);
    expect(cleared!.reactions).toBeUndefined();
  });

  it('is idempotent: a resume replaying changes the GET page already shows ends in the same state', () => {
    // The page already reflects: edited twice (10, 20), a reaction set, another message deleted.
    const page = [message(1, 'alice', { message: 'second', edited: 20, reactions: { '👍': ['bob'] } }), message(2, 'alice', { deleted: true, message: undefined })];
    const replay = [edit('1-0', 'first', 10), edit('1-0', 'second', 20), react('1-0', '👍', true), edit('2-0', 'text back?', 5), remove('2-0', 30)];
    const after = applyAll(page.map((item) => ({ ...item })), replay);
    expect(after).toEqual(page);
    // And from the state before any of them, the same changes reach the same state.
    expect(applyAll([message(1), message(2)], replay)).toEqual(page);
  });

  it('returns the same array when the target is not loaded, or nothing changes', () => {
    const messages = [message(1)];
    expect(applyChange(messages, edit('9-0', 'x', 10))).toBe(messages);
    expect(applyChange(messages, react('1-0', '👍', false))).toBe(messages);
  });

  it('names reactors as the server does', () => {
    expect([reactorName({ user: 'alice' }), reactorName({ user: 'ops', via: 'api' }), reactorName({ user: null, guest: 'rosa' }), reactorName({ user: null })]).toEqual([
      'alice',
      'api:ops',
      'guest:rosa',
      '',
    ]);
  });
});

describe('buildTimeline with changes, replies, mentions and reads', () => {
  const isOwn = (item: MessageState) => item.user === 'bob';

  it('shows tombstones, edits, reactions with mine marked, and replies quoting their first line', () => {
    const messages = [
      message(1, 'alice', { message: 'line one\nline two', edited: 9, reactions: { '🎉': ['alice'], '👍': ['bob', 'alice'] } }),
      message(2, 'alice', { deleted: true, message: undefined }),
      message(3, 'bob', { message: 'answer', replyTo: '1-0' }),
      message(4, 'bob', { message: 'to a gone one', replyTo: '2-0' }),
      message(5, 'bob', { message: 'to an old one', replyTo: '0-5' }),
    ];
    const rows = buildTimeline(messages, [{ nonce: 'n', text: 'hey @alice', ts: 6, state: 'pending', replyTo: '3-0' }], isOwn, 'bob');
    expect(rows[0]).toMatchObject({ text: 'line one\nline two', edited: 9, deleted: false });
    expect(rows[0]!.reactions).toEqual([
      { emoji: '👍', count: 2, who: ['bob', 'alice'], mine: true },
      { emoji: '🎉', count: 1, who: ['alice'], mine: false },
    ]);
    expect(rows[1]).toMatchObject({ text: '', deleted: true, reactions: [] });
    expect(rows[2]!.reply).toEqual({ id: '1-0', author: 'alice', line: 'line one', deleted: false });
    expect(rows[3]!.reply).toEqual({ id: '2-0', author: 'alice', line: undefined, deleted: true });
    expect(rows[4]!.reply).toEqual({ id: '0-5', author: undefined, line: undefined, deleted: false });
    expect(rows[5]).toMatchObject({ state: 'pending', mentions: ['alice'], reply: { id: '3-0', author: 'You', line: 'answer' } });
  });

  it('quotes the first line without bold and code marks, keeping names with underscores', () => {
    expect(firstLine('**see** `run()` in __init__.py\nand more')).toBe('see run() in __init__.py');
    expect(firstLine('x'.repeat(200))).toHaveLength(120);
  });

  it('marks mentions of the reader, not their own, and the first unread message of someone else', () => {
    const messages = [
      message(1, 'alice'),
      message(2, 'bob', { message: 'me @bob', mentions: ['bob'] }),
      message(3, 'alice', { message: 'hi @Bob', mentions: ['Bob'] }),
      message(4, 'alice'),
    ];
    const rows = buildTimeline(messages, [], isOwn, 'bob', undefined, '1-0');
    expect(rows.map((row) => row.mentionsMe)).toEqual([false, false, true, false]);
    // Bob's own message after the read position is not "new" to him.
    expect(rows.map((row) => row.unreadStart)).toEqual([false, false, true, false]);
    expect(buildTimeline(messages, [], isOwn, 'bob', undefined, '4-0').some((row) => row.unreadStart)).toBe(false);
    expect(buildTimeline(messages, [], isOwn, 'bob').some((row) => row.unreadStart)).toBe(false);
  });
});
