import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { groupChannel, idempotencyKey, roomDeletedKey, roomStateKey, roomStreamKey, roomTrimmedKey } from '../../src/redis/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { connected, redisClient } from '../backends.js';
import { TestSocket, UNLIMITED_SENDS, sleep } from '../helpers.js';
import { BACKENDS, post, roomMessages, startTarget, type Target } from './support.js';

/**
 * Finding: on Redis a nonce with a lone surrogate failed in the append script's `cjson.decode`
 * after `XADD`: the sender was told `unavailable`, live listeners got nothing, history kept every
 * retry and a resuming client received them. Now nonces are visible ASCII (refused at the
 * socket), and the script makes every fallible step before it writes.
 */
describe('the append script writes nothing when it refuses (Redis)', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('redis');
    defineScripts(target.admin!);
  });
  afterAll(() => target.close());
  afterEach(async () => {
    await target.admin!.flushdb();
  });

  const ROOM = 'ghosts';
  const good = {
    limit: '100',
    channel: groupChannel(roomGroup(ROOM)),
    text: 'hello',
    user: '',
    before: '{"type":"chat.message","id":"',
    between: '","room":"ghosts","user":null,"message":"hello","ts":',
    sender: 'conn.x!1',
    nonce: 'n-1',
    scope: 'k:someone-someone',
    roomTtl: '60000',
    keyTtl: '60000',
  };
  type Args = typeof good;
  const argv = (args: Args) => [args.limit, args.channel, args.text, args.user, args.before, args.between, args.sender, args.nonce, args.scope, args.roomTtl, '', '', '', '', '', '', 'none', 'chat.message'];
  const LOG_KEYS = [roomStreamKey(ROOM), roomTrimmedKey(ROOM), roomStateKey(ROOM), roomDeletedKey(ROOM)] as const;

  const BAD: Array<[string, Partial<Record<keyof Args, string | Buffer>>]> = [
    ['a history limit that is not a number', { limit: 'lots' }],
    ['a history limit of zero', { limit: '0' }],
    ['a fractional history limit', { limit: '1.5' }],
    ['a negative room TTL', { roomTtl: '-1' }],
    ['a room TTL that is not a number', { roomTtl: 'soon' }],
    ['a lone surrogate nonce, as UTF-8 would carry it (ED A0 80)', { nonce: Buffer.from([0xed, 0xa0, 0x80]) }],
    ['a lone surrogate nonce, as ioredis encodes it', { nonce: '\ud800' }],
    ['a nonce with a space', { nonce: 'has space' }],
    ['a nonce of 65 characters', { nonce: 'n'.repeat(65) }],
    ['a nonce of invalid UTF-8', { nonce: Buffer.from([0xff, 0xfe]) }],
    ['a scope of 201 characters', { scope: 's'.repeat(201) }],
    ['a key TTL that is not a number', { keyTtl: 'forever' }],
    ['a key TTL of zero', { keyTtl: '0' }],
  ];

  it.each(BAD)('refuses %s: nothing stored, published or remembered', async (_what, change) => {
    const admin = target.admin!;
    const listener = await connected(redisClient(target.redis!.url));
    const heard: string[] = [];
    await listener.subscribe(good.channel);
    listener.on('message', (_channel, text: string) => heard.push(text));
    try {
      const args = { ...good, ...change } as Args;
      const key = idempotencyKey('nonce:ghosts:k:someone-someone:n-1');
      await expect(admin.roomcastAppendOnce(...LOG_KEYS, key, ...argv(args), args.keyTtl)).rejects.toThrow(/ERR|error/i);
      if (!('keyTtl' in change)) await expect(admin.roomcastAppend(...LOG_KEYS, ...argv(args))).rejects.toThrow(/ERR|error/i);
      await sleep(50);
      expect(await admin.exists(roomStreamKey(ROOM), roomTrimmedKey(ROOM), key)).toBe(0);
      expect(heard).toEqual([]);
    } finally {
      listener.disconnect();
    }
  });

  it('refuses log and publish keys of the wrong type or content without writing', async () => {
    const admin = target.admin!;
    const key = idempotencyKey('nonce:ghosts:k:someone-someone:n-1');
    await admin.set(roomStreamKey(ROOM), 'not a stream');
    await expect(admin.roomcastAppend(...LOG_KEYS, ...argv(good))).rejects.toThrow(/WRONGTYPE/);
    expect(await admin.get(roomStreamKey(ROOM))).toBe('not a stream');
    await admin.del(roomStreamKey(ROOM));
    for (const prepare of [() => admin.hset(key, 'a', 'b'), () => admin.set(key, 'not an ID')]) {
      await prepare();
      await expect(admin.roomcastAppendOnce(...LOG_KEYS, key, ...argv(good), good.keyTtl)).rejects.toThrow();
      expect(await admin.exists(roomStreamKey(ROOM))).toBe(0);
      await admin.del(key);
    }
    // The good arguments do store, once: the refusals above were the arguments' fault.
    const [stored] = await admin.roomcastAppendOnce(...LOG_KEYS, key, ...argv(good), good.keyTtl);
    expect(stored).toBe(1);
    expect(await admin.xlen(roomStreamKey(ROOM))).toBe(1);
  });
});

for (const backend of BACKENDS) {
  describe(`what a socket may send (${backend})`, () => {
    let target: Target;
    beforeAll(async () => {
      target = await startTarget(backend, UNLIMITED_SENDS);
    });
    afterAll(() => target.close());

    it('refuses a lone-surrogate nonce with invalid_frame, five times over, and stores nothing', async () => {
      const [sender, listener] = [await TestSocket.open(target.node.url, 'surrogate'), await TestSocket.open(target.node.url, 'surrogate')];
      for (let n = 0; n < 5; n += 1) sender.send('{"type":"chat.message","message":"ghost?","nonce":"\\ud800"}');
      await sleep(300);
      expect(sender.frames.filter((frame) => frame.type === 'error').map((frame) => (frame as { code: string }).code)).toEqual(Array(5).fill('invalid_frame'));
      expect(await roomMessages(target.node, 'surrogate')).toEqual([]);
      const resumed = await TestSocket.open(target.node.url, 'surrogate', { since: '0-0' });
      await sleep(200);
      expect([...listener.messages, ...resumed.messages]).toEqual([]);
      await Promise.all([sender.close(), listener.close(), resumed.close()]);
    });

    it('refuses lone surrogates and invisible-only text on the socket and over HTTP alike', async () => {
      const socket = await TestSocket.open(target.node.url, 'invisible');
      const texts = ['a\ud800b', '\u200b\u200b', ' \u2060\u00a0\u3164 ', '\ufe0f', '\u202e'];
      for (const [n, text] of texts.entries()) socket.send({ type: 'chat.message', message: text, nonce: `t-${n}` });
      await sleep(300);
      expect(socket.frames.filter((frame) => frame.type === 'error').map((frame) => (frame as { code: string }).code)).toEqual(Array(texts.length).fill('invalid_frame'));
      for (const text of texts) expect(await post(target.node, 'invisible', text)).toMatchObject({ status: 400, body: { code: 'invalid_body' } });
      expect(await roomMessages(target.node, 'invisible')).toEqual([]);
      await socket.close();
    });

    it('gives anonymous senders their own nonce namespace: the same nonce from two people stores both', async () => {
      const [alice, bob] = [await TestSocket.open(target.node.url, 'nonces'), await TestSocket.open(target.node.url, 'nonces')];
      alice.send({ type: 'chat.message', message: 'from the first', nonce: 'same' });
      const first = await alice.waitFor((frame) => frame.type === 'chat.message' && frame.nonce === 'same', 'the first confirmation');
      bob.send({ type: 'chat.message', message: 'from the second', nonce: 'same' });
      const second = await bob.waitFor((frame) => frame.type === 'chat.message' && frame.nonce === 'same', 'the second confirmation');
      expect([(first as { message: string }).message, (second as { message: string }).message]).toEqual(['from the first', 'from the second']);
      expect((await roomMessages(target.node, 'nonces')).map((m) => m.message)).toEqual(['from the first', 'from the second']);
      await Promise.all([alice.close(), bob.close()]);
    });
  });
}
