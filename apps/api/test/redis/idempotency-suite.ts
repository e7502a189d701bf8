import { serializeFrame } from '@roomcast/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { idempotencyKey } from '../../src/redis/keys.js';
import { RecordingChannel, type RedisBackendFactory } from '../backends.js';
import { eventually, sleep } from '../helpers.js';

const draft = (message: string) => ({ room: 'lobby', user: 'alice', message });

/** A keyed publish on Redis: the key is checked and remembered by the append script itself. */
export function idempotencySuite(factory: RedisBackendFactory): void {
  describe(`appendOnce on the Redis history, one round trip per keyed publish (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    const appendOnce = (backend: Backend, text: string, key: string) =>
      backend.history.appendOnce!(draft(text), { sender: 'conn.x!1', nonce: key }, `nonce:lobby:alice:${key}`);

    it('stores a key’s first publish once, and answers every repeat, on any node, with that message', async () => {
      const [nodeA, nodeB] = [await factory.create(), await factory.create()];
      const member = new RecordingChannel(nodeB.layer.newChannelName());
      await nodeB.layer.groupAdd(roomGroup('lobby'), member);

      const first = await appendOnce(nodeA, 'hello', 'n-1');
      expect(first.state).toBe('stored');
      const stored = (first as { message: unknown }).message;
      expect(await appendOnce(nodeA, 'hello', 'n-1')).toEqual({ state: 'duplicate', message: stored });
      expect(await appendOnce(nodeB, 'hello again?', 'n-1')).toEqual({ state: 'duplicate', message: stored });
      expect((await appendOnce(nodeB, 'other', 'n-2')).state).toBe('stored');

      await eventually(() => member.events.length === 2, 5000, 'two fanned-out messages');
      await sleep(100);
      expect(member.events.map((event) => JSON.parse(event.frame).message)).toEqual(['hello', 'other']);
      expect(member.events[0]).toMatchObject({ nonce: 'n-1', frame: serializeFrame(stored as never) });
      expect((await nodeA.history.readBefore('lobby', undefined, 10)).messages.map((m) => m.message)).toEqual(['hello', 'other']);
    });

    it('stores one of many concurrent publishes with the same key, across nodes', async () => {
      const nodes = [await factory.create(), await factory.create()];
      const results = await Promise.all(Array.from({ length: 20 }, (_, n) => appendOnce(nodes[n % 2]!, 'once', 'race')));
      expect(results.filter((result) => result.state === 'stored')).toHaveLength(1);
      const ids = new Set(results.map((result) => ('message' in result ? result.message.id : 'none')));
      expect(ids.size).toBe(1);
      expect((await nodes[0]!.history.readBefore('lobby', undefined, 10)).messages).toHaveLength(1);
    });

    it('remembers the message ID only, and answers a repeat whose first message was trimmed with that ID', async () => {
      const node = await factory.create({ historyLimit: 2 });
      const client = await factory.admin();
      try {
        const first = await appendOnce(node, 'soon trimmed', 'n-9');
        expect(first.state).toBe('stored');
        expect(await client.get(idempotencyKey('lobby', 'nonce:lobby:alice:n-9'))).toBe(first.message.id);
        await appendOnce(node, 'two', 'n-10');
        await appendOnce(node, 'three', 'n-11');
        expect(await appendOnce(node, 'soon trimmed', 'n-9')).toEqual({ state: 'duplicate', message: first.message });
        expect((await node.history.readBefore('lobby', undefined, 10)).messages.map((m) => m.message)).toEqual(['two', 'three']);
      } finally {
        client.disconnect();
      }
    });
  });
}
