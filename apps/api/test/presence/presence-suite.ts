import { serializeFrame } from '@roomcast/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { RecordingChannel, type BackendFactory } from '../backends.js';
import { eventually, sleep } from '../helpers.js';

/** The presence contract, run against every implementation. */
export function presenceSuite(factory: BackendFactory): void {
  describe(`presence (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('announces the room on every join and leave: names once each, sorted, anonymous counted', async () => {
      const { layer, presence } = await factory.create();
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('lobby'), watcher);
      await presence.join('lobby', 'c1', 'bob');
      await presence.join('lobby', 'c2', 'alice');
      await presence.join('lobby', 'c3', null);
      await presence.join('lobby', 'c4', 'bob');
      await presence.leave('lobby', 'c2');
      await eventually(() => watcher.events.length === 5, 5000, 'five presence frames');
      expect(watcher.events.map((event) => event.frame)).toEqual([
        serializeFrame({ type: 'presence', room: 'lobby', users: ['bob'], guests: [], anonymous: 0 }),
        serializeFrame({ type: 'presence', room: 'lobby', users: ['alice', 'bob'], guests: [], anonymous: 0 }),
        serializeFrame({ type: 'presence', room: 'lobby', users: ['alice', 'bob'], guests: [], anonymous: 1 }),
        serializeFrame({ type: 'presence', room: 'lobby', users: ['alice', 'bob'], guests: [], anonymous: 1 }),
        serializeFrame({ type: 'presence', room: 'lobby', users: ['bob'], guests: [], anonymous: 1 }),
      ]);
      expect(await presence.get('lobby')).toEqual({ users: ['bob'], guests: [], anonymous: 1 });
    });

    it('says nothing when a member that is not there leaves', async () => {
      const { layer, presence } = await factory.create();
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('lobby'), watcher);
      await presence.join('lobby', 'c1', null);
      await presence.leave('lobby', 'ghost');
      await presence.leave('lobby', 'c1');
      await presence.leave('lobby', 'c1');
      await eventually(() => watcher.events.length >= 2, 5000, 'two frames');
      await sleep(150);
      expect(watcher.frames('presence').map((frame) => frame.anonymous)).toEqual([1, 0]);
      expect(await presence.get('lobby')).toEqual({ users: [], guests: [], anonymous: 0 });
    });

    it('lists rooms with someone online, busiest first, then by name', async () => {
      const { presence } = await factory.create();
      await presence.join('kitchen', 'k1', null);
      await presence.join('lobby', 'l1', 'alice');
      await presence.join('lobby', 'l2', 'alice');
      await presence.join('attic', 'a1', null);
      await presence.join('gone', 'g1', null);
      await presence.leave('gone', 'g1');
      expect(await presence.rooms()).toEqual([
        { room: 'lobby', online: 2 },
        { room: 'attic', online: 1 },
        { room: 'kitchen', online: 1 },
      ]);
      expect(await presence.get('nobody-here')).toEqual({ users: [], guests: [], anonymous: 0 });
    });
  });
}
