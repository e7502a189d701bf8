import type { ChatMessage, ErrorFrame } from '@roomcast/protocol';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { roomStateKey } from '../../src/redis/keys.js';
import { TestSocket, UNLIMITED_SENDS, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { sendAndWait, signedIn } from './message-helpers.js';

describe('limits on changes over sockets', () => {
  let node: TestNode | undefined;
  let redis: TestRedis | undefined;
  const sockets: TestSocket[] = [];
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await node?.close();
    await redis?.stop();
    node = undefined;
    redis = undefined;
  });

  it('spends the socket’s send budget on edits and reactions', async () => {
    node = await startNode({ socketRate: 1, ipMessageRate: 0, userMessageRate: 0 });
    const alice = await signedIn(node, 'lobby', 'alice');
    sockets.push(alice.socket);
    const mine = (await sendAndWait(alice.socket, { type: 'chat.message', message: 'one' }, 'm1')) as ChatMessage;
    const nonces = ['r1', 'e1', 'r2', 'e2'];
    for (const [n, nonce] of nonces.entries()) {
      alice.socket.send(n % 2 ? { type: 'chat.edit', target: mine.id, message: `v${n}`, nonce } : { type: 'reaction', target: mine.id, emoji: '👍', nonce });
    }
    const limited = await alice.socket.waitFor<ErrorFrame>((f) => f.type === 'error' && f.code === 'rate_limited', 'a rate_limited refusal');
    expect(nonces).toContain(limited.nonce);
    expect(limited.retryAfterMs).toBeGreaterThan(0);
  });

  it('refuses edits and reactions on a message older than the kept history, and forgets its state (Redis)', async () => {
    redis = await startRedis();
    node = await startNode({ ...UNLIMITED_SENDS, historyLimit: 3, redisUrl: redis.url });
    const alice = await signedIn(node, 'lobby', 'alice');
    sockets.push(alice.socket);
    const old = (await sendAndWait(alice.socket, { type: 'chat.message', message: 'old' }, 'm0')) as ChatMessage;
    await sendAndWait(alice.socket, { type: 'reaction', target: old.id, emoji: '👍' }, 'r0');
    const admin = new Redis(redis.url);
    try {
      expect(await admin.hexists(roomStateKey('lobby'), old.id)).toBe(1);
      for (let n = 1; n <= 3; n += 1) await sendAndWait(alice.socket, { type: 'chat.message', message: `m${n}` }, `m${n}`);
      expect(await sendAndWait(alice.socket, { type: 'chat.edit', target: old.id, message: 'x' }, 'e1')).toMatchObject({ type: 'error', code: 'not_found' });
      expect(await sendAndWait(alice.socket, { type: 'reaction', target: old.id, emoji: '👍' }, 'r1')).toMatchObject({ type: 'error', code: 'not_found' });
      // Trimmed with the log: the state of a message no longer kept is gone too.
      expect(await admin.hexists(roomStateKey('lobby'), old.id)).toBe(0);
    } finally {
      admin.disconnect();
    }
  });
});
