import { describe, expect, it } from 'vitest';
import { parseClientFrame, parseServerFrame } from './frames.js';
import { foldUsername, isGuestName } from './names.js';

describe('foldUsername', () => {
  it('folds case and the look-alikes I/l/1 and O/0 together', () => {
    expect(foldUsername('ops')).toBe(foldUsername('0PS'));
    expect(foldUsername('Bill')).toBe(foldUsername('B1lI'));
    expect(foldUsername('alice')).not.toBe(foldUsername('alex'));
  });
});

describe('guest names and the ping frame', () => {
  it('a guest name follows the username rule', () => {
    expect(isGuestName('rosa')).toBe(true);
    expect(isGuestName('a b')).toBe(false);
    expect(isGuestName('xy')).toBe(false);
  });

  it('reads a ping and a pong, and frames with guest and via', () => {
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ ok: true, value: { kind: 'ping' } });
    expect(parseServerFrame('{"type":"pong"}')).toEqual({ type: 'pong' });
    const frame = '{"type":"chat.message","id":"1-0","room":"a","user":null,"guest":"rosa","message":"hi","ts":1}';
    expect(parseServerFrame(frame)).toMatchObject({ guest: 'rosa', user: null });
    expect(parseServerFrame('{"type":"chat.message","id":"1-0","room":"a","user":"ops","via":"api","message":"hi","ts":1}')).toMatchObject({ via: 'api' });
    expect(parseServerFrame('{"type":"chat.message","id":"1-0","room":"a","user":"ops","via":"human","message":"hi","ts":1}')).toBeUndefined();
  });
});
