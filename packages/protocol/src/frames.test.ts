import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_LENGTH, NONCE_PATTERN } from './constants.js';
import { ERROR_CODES } from './errors.js';
import { errorFrame, parseClientFrame, parseServerFrame, serializeFrame, withNonce, type ChatMessage } from './frames.js';
import { isMessageText } from './http.js';
import { messageTextProblem } from './text.js';

describe('parseClientFrame', () => {
  it('reads the seeds’ bare form and the typed form', () => {
    expect(parseClientFrame('{"message":"hi"}')).toEqual({ ok: true, value: { kind: 'chat', message: 'hi' } });
    expect(parseClientFrame('{"type":"chat.message","message":"hi","nonce":"n1"}')).toEqual({
      ok: true,
      value: { kind: 'chat', message: 'hi', nonce: 'n1' },
    });
    expect(parseClientFrame('{"type":"typing"}')).toEqual({ ok: true, value: { kind: 'typing' } });
  });

  it('refuses each kind of bad frame with its code, keeping a readable nonce', () => {
    expect(parseClientFrame('nope')).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(parseClientFrame('null')).toMatchObject({ ok: false, code: 'invalid_frame' });
    expect(parseClientFrame('{"message":1,"nonce":"n2"}')).toMatchObject({ ok: false, code: 'invalid_frame', nonce: 'n2' });
    expect(parseClientFrame('{"type":"wave"}')).toMatchObject({ ok: false, code: 'unknown_type' });
    expect(parseClientFrame(JSON.stringify({ message: 'x'.repeat(MAX_MESSAGE_LENGTH + 1), nonce: 'n3' }))).toMatchObject({
      ok: false,
      code: 'too_long',
      nonce: 'n3',
    });
    expect(parseClientFrame(JSON.stringify({ message: 'x'.repeat(MAX_MESSAGE_LENGTH) }))).toMatchObject({ ok: true });
  });

  it('never throws, and refuses only with documented codes (any string)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        const result = parseClientFrame(text);
        if (!result.ok) expect(ERROR_CODES).toContain(result.code);
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on any JSON value, and accepts exactly the valid chat frames', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (value) => {
        const result = parseClientFrame(JSON.stringify(value));
        if (!result.ok) {
          expect(ERROR_CODES).toContain(result.code);
          return;
        }
        if (result.value.kind === 'chat') {
          expect(typeof result.value.message).toBe('string');
          expect(result.value.message.trim()).not.toBe('');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any valid chat frame', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH }).filter((text) => text.trim() !== ''),
        fc.option(fc.stringMatching(NONCE_PATTERN), { nil: undefined }),
        (message, nonce) => {
          const frame = nonce === undefined ? { message } : { type: 'chat.message', message, nonce };
          const result = parseClientFrame(JSON.stringify(frame));
          expect(result).toEqual({ ok: true, value: nonce === undefined ? { kind: 'chat', message } : { kind: 'chat', message, nonce } });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('nonces and message text', () => {
  it('accepts nonces of 1 to 64 visible ASCII characters and refuses any other with invalid_frame', () => {
    for (const nonce of ['a', '~'.repeat(64), 'n-1_x.Y!']) {
      expect(parseClientFrame(JSON.stringify({ type: 'chat.message', message: 'hi', nonce }))).toMatchObject({ ok: true });
    }
    for (const nonce of ['', 'x'.repeat(65), 'has space', '\ud800', 'é', 'tab\t', '\u0000', 7]) {
      const result = parseClientFrame(JSON.stringify({ type: 'chat.message', message: 'hi', nonce }));
      expect(result, JSON.stringify(nonce)).toMatchObject({ ok: false, code: 'invalid_frame' });
      // A bad nonce is never echoed back.
      expect(result).not.toHaveProperty('nonce');
    }
  });

  it('refuses lone surrogates and text made only of invisible characters, on sockets and in isMessageText alike', () => {
    for (const text of ['\ud800', 'a\udc00b', '\u200b', ' \u200d\u2060 ', '\u3164', '\u2800', '\ufe0f', '\u202e', '\u0001\t']) {
      expect(messageTextProblem(text), JSON.stringify(text)).toBeDefined();
      expect(isMessageText(text)).toBe(false);
      expect(parseClientFrame(JSON.stringify({ message: text, nonce: 'n1' }))).toMatchObject({ ok: false, code: 'invalid_frame', nonce: 'n1' });
    }
    for (const text of ['hi', '👍', 'a\u200bb', '\u{1F600}', 'ß']) {
      expect(messageTextProblem(text), JSON.stringify(text)).toBeUndefined();
      expect(parseClientFrame(JSON.stringify({ message: text }))).toMatchObject({ ok: true });
    }
  });
});

describe('server frames', () => {
  const message: ChatMessage = { type: 'chat.message', id: '1-0', room: 'lobby', user: null, message: 'hi "there"', ts: 1 };

  it('adds a nonce to a serialized frame without parsing it again', () => {
    const text = withNonce(serializeFrame(message), 'n "1"');
    expect(JSON.parse(text)).toEqual({ ...message, nonce: 'n "1"' });
    expect(parseServerFrame(text)).toEqual({ ...message, nonce: 'n "1"' });
  });

  it('reads every frame type and ignores anything else without throwing', () => {
    expect(parseServerFrame(serializeFrame(errorFrame('rate_limited', undefined, { retryAfterMs: 50 })))).toMatchObject({
      type: 'error',
      code: 'rate_limited',
      retryAfterMs: 50,
    });
    expect(parseServerFrame('{"type":"presence","room":"a","users":["x"],"anonymous":0}')).toMatchObject({ type: 'presence' });
    expect(parseServerFrame('{"type":"presence","room":"a","users":"x","anonymous":0}')).toBeUndefined();
    expect(parseServerFrame('{"type":"presence","room":"a","users":[],"anonymous":9,"count":1200}')).toMatchObject({ count: 1200 });
    expect(parseServerFrame('{"type":"presence","room":"a","users":[],"anonymous":9,"count":-1}')).toBeUndefined();
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.jsonValue().map((value) => JSON.stringify(value))), (text) => {
        const frame = parseServerFrame(text);
        if (frame !== undefined) expect(typeof frame.type).toBe('string');
      }),
      { numRuns: 2000 },
    );
  });
});

describe('edits, deletions and reactions', () => {
  it('reads each change frame, with replies on chat messages', () => {
    expect(parseClientFrame('{"type":"chat.message","message":"yes","replyTo":"1-0"}')).toEqual({
      ok: true,
      value: { kind: 'chat', message: 'yes', replyTo: '1-0' },
    });
    expect(parseClientFrame('{"type":"chat.edit","target":"5-1","message":"fixed","nonce":"e1"}')).toEqual({
      ok: true,
      value: { kind: 'edit', target: '5-1', message: 'fixed', nonce: 'e1' },
    });
    expect(parseClientFrame('{"type":"chat.delete","target":"5-1"}')).toEqual({ ok: true, value: { kind: 'delete', target: '5-1' } });
    expect(parseClientFrame('{"type":"reaction","target":"5-1","emoji":"👍"}')).toEqual({
      ok: true,
      value: { kind: 'reaction', target: '5-1', emoji: '👍' },
    });
  });

  it('refuses a forged target, an emoji outside the set and an over-long edit, with the nonce', () => {
    expect(parseClientFrame('{"type":"chat.delete","target":"../x","nonce":"d1"}')).toMatchObject({ ok: false, code: 'invalid_frame', nonce: 'd1' });
    expect(parseClientFrame('{"type":"reaction","target":"5-1","emoji":"<b>","nonce":"r1"}')).toMatchObject({
      ok: false,
      code: 'invalid_frame',
      nonce: 'r1',
    });
    expect(parseClientFrame(JSON.stringify({ type: 'chat.edit', target: '5-1', message: 'x'.repeat(MAX_MESSAGE_LENGTH + 1), nonce: 'e2' }))).toMatchObject({
      ok: false,
      code: 'too_long',
      nonce: 'e2',
    });
    expect(parseClientFrame('{"type":"chat.message","message":"hi","replyTo":"nope"}')).toMatchObject({ ok: false, code: 'invalid_frame' });
  });

  it('reads the server’s change frames and drops malformed ones', () => {
    const edit = { type: 'chat.edit', id: '6-0', room: 'r', target: '5-1', message: 'fixed', user: 'alice', ts: 6 };
    expect(parseServerFrame(JSON.stringify(edit))).toEqual(edit);
    const reaction = { type: 'reaction', id: '7-0', room: 'r', target: '5-1', emoji: '👍', on: true, user: 'bob', ts: 7 };
    expect(parseServerFrame(JSON.stringify(reaction))).toEqual(reaction);
    expect(parseServerFrame(JSON.stringify({ ...reaction, on: 'yes' }))).toBeUndefined();
  });
});
