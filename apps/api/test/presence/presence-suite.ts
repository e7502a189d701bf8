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

    it('announces the room after joins and leaves: names once each, sorted, anonymous counted, the latest state last', async () => {
      const { layer, presence } = await factory.create();
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('lobby'), watcher);
      await presence.join('lobby', 'c1', 'bob');
      await presence.join('lobby', 'c2', 'alice');
      await presence.join('lobby', 'c3', null);
      await presence.join('lobby', 'c4', 'bob');
      await presence.leave('lobby', 'c2');
      const last = serializeFrame({ type: 'presence', room: 'lobby', users: ['bob'], guests: [], anonymous: 1 });
      await eventually(() => watcher.events.at(-1)?.frame === last, 5000, 'the final presence frame');
      // Coalesced: the first change at once, the rest folded into one frame an interval later.
      expect(watcher.events.length).toBeLessThanOrEqual(2);
      expect(await presence.get('lobby')).toEqual({ users: ['bob'], guests: [], anonymous: 1 });
    });

    it('sends a room at most one frame per interval however fast members come and go', async () => {
      const { layer, presence } = await factory.create({ presence: { presenceIntervalMs: 100, presenceListMax: 1000 } });
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('busy'), watcher);
      const started = Date.now();
      for (let index = 0; index < 200; index += 1) {
        await presence.join('busy', `m${index}`, index % 2 === 0 ? null : `user${index % 10}`);
        if (index % 20 === 0) await sleep(25);
      }
      await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 100, 5000, 'the final state');
      await sleep(250);
      const elapsed = Date.now() - started;
      expect(watcher.frames('presence').at(-1)).toEqual({
        type: 'presence',
        room: 'busy',
        users: ['user1', 'user3', 'user5', 'user7', 'user9'],
        guests: [],
        anonymous: 100,
      });
      // One frame per 100 ms interval (plus the first), not one per join.
      expect(watcher.events.length).toBeLessThanOrEqual(Math.ceil(elapsed / 100) + 2);
      expect(watcher.events.length).toBeLessThan(50);
    });

    it('spaces a big room\'s frames out so they cost about PRESENCE_COPIES_PER_SECOND copies a second', async () => {
      const { layer, presence } = await factory.create({ presence: { presenceIntervalMs: 100, presenceListMax: 100 } });
      const arena = new RecordingChannel(layer.newChannelName());
      const corner = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('arena'), arena);
      await layer.groupAdd(roomGroup('corner'), corner);
      // 2,000 connections: a frame at most every 500 ms (2,000 x 1,000 / 4,000), not every 100 ms.
      for (let index = 0; index < 2000; index += 1) await presence.join('arena', `a${index}`, null);
      await presence.join('corner', 'c', null);
      await eventually(() => arena.frames('presence').at(-1)?.anonymous === 2000, 5000, 'the arena counted');
      await sleep(600);
      const [arenaBefore, cornerBefore] = [arena.events.length, corner.events.length];
      const started = Date.now();
      for (let tick = 0; tick < 40; tick += 1) {
        await presence.join('arena', `x${tick}`, null);
        await presence.join('corner', `x${tick}`, null);
        await sleep(50);
      }
      const elapsed = Date.now() - started;
      await eventually(() => arena.frames('presence').at(-1)?.anonymous === 2040, 5000, 'the arena\'s last state');
      await eventually(() => corner.frames('presence').at(-1)?.anonymous === 41, 5000, 'the corner\'s last state');
      const arenaFrames = arena.events.length - arenaBefore;
      const cornerFrames = corner.events.length - cornerBefore;
      expect(arenaFrames).toBeLessThanOrEqual(Math.ceil(elapsed / 500) + 2);
      // The same changes in a small room go out every 100 ms.
      expect(cornerFrames).toBeGreaterThanOrEqual(2 * arenaFrames);
    });

    it('shares PRESENCE_COPIES_PER_SECOND among the rooms changing at once: together they cost about that', async () => {
      const { layer, presence } = await factory.create({ presence: { presenceIntervalMs: 100, presenceListMax: 100 } });
      const rooms = ['r0', 'r1', 'r2', 'r3'];
      const watchers = rooms.map(() => new RecordingChannel(layer.newChannelName()));
      for (const [index, room] of rooms.entries()) await layer.groupAdd(roomGroup(room), watchers[index]!);
      // 1,000 connections a room: alone, a room may have a frame every 250 ms (4,000 copies a
      // second); four at once share the 4,000, a frame a second each.
      for (const room of rooms) for (let index = 0; index < 1000; index += 1) await presence.join(room, `${room}-${index}`, null);
      for (const [index, watcher] of watchers.entries()) await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 1000, 10_000, `${rooms[index]} counted`);
      // Every room quiet again (its last interval over).
      await sleep(2500);
      const before = watchers.map((watcher) => watcher.events.length);
      const started = Date.now();
      for (let tick = 0; tick < 40; tick += 1) {
        for (const room of rooms) await presence.join(room, `${room}-x${tick}`, null);
        await sleep(50);
      }
      for (const [index, watcher] of watchers.entries()) await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 1040, 10_000, `${rooms[index]}'s last state`);
      const seconds = (Date.now() - started) / 1000;
      const frames = watchers.map((watcher, index) => watcher.events.length - before[index]!);
      const copies = frames.reduce((sum, count) => sum + count, 0) * 1000;
      // The first frame of each room at once, then about the budget's worth (each frame reaches
      // 1,000 or more; 10% for timers). Each room alone would have had a frame every 250 ms.
      expect(copies).toBeLessThanOrEqual(4000 * seconds * 1.1 + rooms.length * 1000);
      // Shared: no room is left without news while the others are told.
      for (const count of frames) expect(count).toBeGreaterThanOrEqual(2);
    });

    it('gives counts, not names, for a room above the list limit', async () => {
      const { layer, presence } = await factory.create({ presence: { presenceListMax: 3 } });
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('hall'), watcher);
      await presence.join('hall', 'h1', 'alice');
      await presence.join('hall', 'h2', 'bob');
      await presence.join('hall', 'h3', 'alice');
      await eventually(() => watcher.frames('presence').at(-1)?.users !== undefined && (watcher.frames('presence').at(-1)!.users as string[]).length === 2, 5000, 'names while small');
      expect(watcher.frames('presence').at(-1)).toEqual({ type: 'presence', room: 'hall', users: ['alice', 'bob'], guests: [], anonymous: 0 });
      await presence.join('hall', 'h4', null);
      await presence.join('hall', 'h5', 'carol');
      await eventually(() => watcher.frames('presence').at(-1)?.count === 3, 5000, 'counts once large');
      expect(watcher.frames('presence').at(-1)).toEqual({ type: 'presence', room: 'hall', users: [], guests: [], anonymous: 1, count: 3 });
      // A joiner's snapshot is what the frame says: counts above the limit.
      expect(await presence.snapshot('hall')).toEqual({ users: [], guests: [], anonymous: 1, count: 3 });
      // Back at the limit: names again.
      await presence.leave('hall', 'h5');
      await presence.leave('hall', 'h4');
      await eventually(() => watcher.frames('presence').at(-1)?.count === undefined, 5000, 'names again');
      expect(watcher.frames('presence').at(-1)).toEqual({ type: 'presence', room: 'hall', users: ['alice', 'bob'], guests: [], anonymous: 0 });
      expect(await presence.snapshot('hall')).toEqual({ users: ['alice', 'bob'], guests: [], anonymous: 0 });
      // The full list is still there for whoever asks.
      await presence.join('hall', 'h6', 'dave');
      await presence.join('hall', 'h7', 'erin');
      expect(await presence.get('hall')).toEqual({ users: ['alice', 'bob', 'dave', 'erin'], guests: [], anonymous: 0 });
    });

    it('says nothing when a member that is not there leaves', async () => {
      const { layer, presence } = await factory.create();
      const watcher = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('lobby'), watcher);
      await presence.join('lobby', 'c1', null);
      await presence.leave('lobby', 'ghost');
      await presence.leave('lobby', 'c1');
      await presence.leave('lobby', 'c1');
      await eventually(() => watcher.frames('presence').at(-1)?.anonymous === 0, 5000, 'the room empty');
      await sleep(600);
      // The ghost's leave changed nothing: the frames say one anonymous member, then none.
      expect([...new Set(watcher.frames('presence').map((frame) => frame.anonymous))]).toEqual([1, 0]);
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
