import { MAX_MESSAGE_LENGTH } from '@roomcast/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryRoomHistory } from '../../src/history/memory.js';
import { idempotencyKey } from '../../src/redis/keys.js';
import { RecentKeys } from '../../src/rooms/idempotency.js';
import { nonceKey } from '../../src/rooms/publisher.js';
import { TestSocket, UNLIMITED_SENDS } from '../helpers.js';
import { figure, settledHeap, startTarget, type Target } from './support.js';

/**
 * Finding: every socket nonce stored the whole frame for 24 h: ~12 KB a key on Redis, ~7.8 KB an
 * entry embedded (up to ~400 MB at the 50,000 cap). Now an entry holds the message ID only.
 */
const LONGEST = { room: 'r'.repeat(64), clientId: 'c'.repeat(64), nonce: 'n'.repeat(64), text: 'x'.repeat(MAX_MESSAGE_LENGTH) };

describe('a publish key holds the message ID only (Redis)', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('redis', UNLIMITED_SENDS);
  });
  afterAll(() => target.close());

  it('costs at most 400 bytes in Redis (MEMORY USAGE) with the longest room, client ID, nonce and message', async () => {
    const socket = new TestSocket(`${target.node.url.replace('http', 'ws')}/ws/chat/${LONGEST.room}/?client=${LONGEST.clientId}`);
    await socket.opened;
    socket.send({ type: 'chat.message', message: LONGEST.text, nonce: LONGEST.nonce });
    const own = await socket.waitFor((frame) => frame.type === 'chat.message', 'the confirmation');
    await socket.close();
    const key = idempotencyKey(LONGEST.room, nonceKey(LONGEST.room, `k:${LONGEST.clientId}`, LONGEST.nonce));
    expect(await target.admin!.get(key)).toBe((own as { id: string }).id);
    const bytes = Number(await target.admin!.call('MEMORY', 'USAGE', key));
    figure('redis publish key MEMORY USAGE (bytes)', bytes);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(400);
    const ttl = await target.admin!.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(24 * 60 * 60 * 1000);
  });
});

describe('embedded publish keys are bounded by count and by bytes', () => {
  it('holds 20,000 keyed 4,000-character sends in at most 600 bytes of heap each', async () => {
    const target = await startTarget('memory', { ...UNLIMITED_SENDS, historyLimit: 10 });
    try {
      const before = await settledHeap();
      const publisher = target.node.app.publisher;
      for (let n = 0; n < 20_000; n += 1) {
        await publisher.publish({ room: 'keys', user: null, message: LONGEST.text }, { nonce: `n-${n}`, scope: 'k:x' }, nonceKey('keys', 'k:x', `n-${n}`));
      }
      const perEntry = ((await settledHeap()) - before) / 20_000;
      figure('embedded heap per publish key (bytes)', perEntry.toFixed(0));
      expect((target.node.app.backend.history as MemoryRoomHistory).stats.keys).toBe(20_000);
      expect(perEntry).toBeLessThan(600);
    } finally {
      await target.close();
    }
  });

  it('drops the oldest keys past the byte cap, whatever their count', () => {
    const keys = new RecentKeys(60_000, { maxEntries: 1_000_000, maxBytes: 100_000 });
    for (let n = 0; n < 10_000; n += 1) keys.set(`nonce:${'r'.repeat(64)}:k:${'c'.repeat(64)}:${n}`, `${1_700_000_000_000 + n}-0`);
    expect(keys.byteSize).toBeLessThanOrEqual(100_000);
    expect(keys.size).toBeGreaterThan(100);
    expect(keys.get(`nonce:${'r'.repeat(64)}:k:${'c'.repeat(64)}:9999`)).toBe('1700000009999-0');
    expect(keys.get(`nonce:${'r'.repeat(64)}:k:${'c'.repeat(64)}:0`)).toBeUndefined();
  });
});
