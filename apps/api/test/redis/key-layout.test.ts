import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KEY_LAYOUT_KEY, roomStreamKey, roomTrimmedKey } from '../../src/redis/keys.js';
import { eventually, sleep } from '../helpers.js';
import { connected, redisClient, redisFactory } from '../backends.js';

describe('rooms written before hash-tagged keys', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  it('keep their history: a node starting on that Redis renames their logs and trimmed marks', async () => {
    const admin = await connected(redisClient(factory.redis().url));
    try {
      // As the previous layout stored a room: rc:room:ROOM:log, its trimmed mark, an expiry.
      const first = (await admin.xadd('rc:room:old-room:log', '*', 'message', 'from before', 'user', 'alice'))!;
      await admin.xadd('rc:room:old-room:log', '*', 'message', 'and after that');
      await admin.set('rc:room:old-room:trimmed', '1-0');
      await admin.pexpire('rc:room:old-room:log', 600_000);
      await admin.set('rc:room:not a room:log', 'left alone');

      const node = await factory.create();
      await eventually(async () => (await admin.get(KEY_LAYOUT_KEY)) !== null, 5000, 'the renaming to finish');
      const { messages } = await node.history.readBefore('old-room', undefined, 10);
      expect(messages.map((message) => [message.message, message.user])).toEqual([
        ['from before', 'alice'],
        ['and after that', null],
      ]);
      expect(messages[0]!.id).toBe(first);
      expect(await admin.get(roomTrimmedKey('old-room'))).toBe('1-0');
      expect(await admin.pttl(roomStreamKey('old-room'))).toBeGreaterThan(0);
      expect(await admin.exists('rc:room:old-room:log', 'rc:room:old-room:trimmed')).toBe(0);
      expect(await admin.get('rc:room:not a room:log')).toBe('left alone');

      // Later starts read the layout key and scan nothing: an old name written now stays.
      await admin.set('rc:room:late:log', 'x');
      await factory.create();
      await sleep(300);
      expect(await admin.get('rc:room:late:log')).toBe('x');
      expect((await node.history.readBefore('old-room', undefined, 10)).messages).toHaveLength(2);
    } finally {
      admin.disconnect();
    }
  });
});
