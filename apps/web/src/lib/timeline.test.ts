import type { ChatMessage } from '@roomcast/protocol';
import { describe, expect, it } from 'vitest';
import { buildTimeline, mergeMessages, type LocalSend } from './timeline.js';

const at = Date.UTC(2025, 0, 6, 12, 0, 0);
const message = (seq: number, user: string | null = 'alice', ts = at + seq * 1000): ChatMessage => ({
  type: 'chat.message',
  id: `${at}-${seq}`,
  room: 'lobby',
  user,
  message: `m${seq}`,
  ts,
});
const ids = (messages: ChatMessage[]) => messages.map((item) => item.id.split('-')[1]);

describe('mergeMessages', () => {
  it('appends live messages after what it has', () => {
    expect(ids(mergeMessages([message(1), message(2)], [message(3)]))).toEqual(['1', '2', '3']);
  });

  it('drops a message it already has, by ID', () => {
    expect(ids(mergeMessages([message(1), message(2)], [message(2), message(3)]))).toEqual(['1', '2', '3']);
  });

  it('puts an older page before, in ID order, with the overlap once', () => {
    expect(ids(mergeMessages([message(5), message(6)], [message(3), message(4), message(5)]))).toEqual(['3', '4', '5', '6']);
  });

  it('orders by ID, not by string', () => {
    const nine = { ...message(9), id: `${at}-9` };
    const ten = { ...message(10), id: `${at}-10` };
    expect(mergeMessages([ten], [nine]).map((item) => item.id)).toEqual([nine.id, ten.id]);
  });

  it('returns the same array when nothing comes in', () => {
    const current = [message(1)];
    expect(mergeMessages(current, [])).toBe(current);
  });
});

describe('buildTimeline', () => {
  const notMine = () => false;

  it('puts unconfirmed sends after the confirmed messages, as mine', () => {
    const sends: LocalSend[] = [{ nonce: 'n1', text: 'hi', ts: at + 10_000, state: 'pending' }];
    const rows = buildTimeline([message(1)], sends, notMine, 'bob');
    expect(rows.map((row) => [row.key, row.state, row.mine, row.user])).toEqual([
      [`${at}-1`, 'confirmed', false, 'alice'],
      ['n1', 'pending', true, 'bob'],
    ]);
  });

  it('keys a confirmed send by its nonce, so its row stays the same element', () => {
    const own = { ...message(2), nonce: 'n1' };
    expect(buildTimeline([own], [], () => true, null)[0]!.key).toBe('n1');
  });

  it('groups a run by one author and starts a new group after a gap or another author', () => {
    const rows = buildTimeline(
      [message(1), message(2), message(3, 'bob'), message(4, 'bob', at + 20 * 60 * 1000)],
      [],
      notMine,
      null,
    );
    expect(rows.map((row) => row.startsGroup)).toEqual([true, false, true, true]);
  });

  it('never groups two guests, who may be different people, unless both are mine', () => {
    const guests = buildTimeline([message(1, null), message(2, null)], [], notMine, null);
    expect(guests.map((row) => row.startsGroup)).toEqual([true, true]);
    const mine = buildTimeline([message(1, null), message(2, null)], [], () => true, null);
    expect(mine.map((row) => row.startsGroup)).toEqual([true, false]);
  });

  it('marks the first message of each day', () => {
    const nextDay = message(2, 'alice', at + 24 * 3600 * 1000);
    const rows = buildTimeline([message(1), nextDay], [], notMine, null);
    expect(rows.map((row) => [row.startsDay, row.startsGroup])).toEqual([
      [true, true],
      [true, true],
    ]);
  });
});
