import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LAYOUT_KEY, roomReadersKey, roomStreamKey, roomTrimmedKey } from '../../src/redis/keys.js';
import { eventually, sleep } from '../helpers.js';
import { connected, redisClient, redisFactory } from '../backends.js';

describe('rooms written before hash-tagged keys', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  it('keep their history: a node starting on that Redis renames their logs, trimmed marks, message state, tombstones and readers', async () => {
    const admin = await connected(redisClient(factory.redis().url));
    try {
      // As the previous layout stored a room: rc:room:ROOM:log, its trimmed mark, an expiry.
      const first = (await admin.xadd('rc:room:old-room:log', '*', 'message', 'from before', 'user', 'alice'))!;
      await admin.xadd('rc:room:old-room:log', '*', 'message', 'and after that');
      await admin.set('rc:room:old-room:trimmed', '1-0');
      // An edit of the first message and a deleted one (its entry already gone from the log), as #13 stored them.
      const ms = first.split('-')[0]!;
      await admin.hset('rc:room:old-room:state', first, JSON.stringify({ e: ms, m: 'edited before', n: '' }), '5-0', JSON.stringify({ d: 1, a: 'bob' }));
      await admin.zadd('rc:room:old-room:deleted', 5, '5-0');
      await admin.sadd('rc:room:old-room:readers', 'carol');
      await admin.pexpire('rc:room:old-room:log', 600_000);
      await admin.set('rc:room:not a room:log', 'left alone');

      const node = await factory.create();
      await eventually(async () => (await admin.get(KEY_LAYOUT_KEY)) !== null, 5000, 'the renaming to finish');
      const { messages } = await node.history.readBefore('old-room', undefined, 10);
      expect(messages.map((message) => [message.id, message.message, message.user, message.deleted])).toEqual([
        ['5-0', undefined, 'bob', true],
        [first, 'edited before', 'alice', undefined],
        [messages[2]!.id, 'and after that', null, undefined],
      ]);
      expect(messages[1]!.edited).toBe(Number(ms));
      expect(await node.reads.readers('old-room', ['carol', 'dave'])).toEqual(['carol']);
      expect(await admin.smembers(roomReadersKey('old-room'))).toEqual(['carol']);
      expect(await admin.get(roomTrimmedKey('old-room'))).toBe('1-0');
      expect(await admin.pttl(roomStreamKey('old-room'))).toBeGreaterThan(0);
      expect(await admin.exists(...['log', 'trimmed', 'state', 'deleted', 'readers'].map((what) => `rc:room:old-room:${what}`))).toBe(0);
      expect(await admin.get('rc:room:not a room:log')).toBe('left alone');

      // Later starts read the layout key and scan nothing: an old name written now stays.
      await admin.set('rc:room:late:log', 'x');
      await factory.create();
      await sleep(300);
      expect(await admin.get('rc:room:late:log')).toBe('x');
      expect((await node.history.readBefore('old-room', undefined, 10)).messages).toHaveLength(3);
    } finally {
      admin.disconnect();
    }
  });
});
