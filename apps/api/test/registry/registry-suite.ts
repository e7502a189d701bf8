import { DIRECTORY_PAGE_SIZE } from '@roomcast/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RoomRecord } from '../../src/registry/room-registry.js';
import type { BackendFactory } from '../backends.js';
import { sleep } from '../helpers.js';

const record = (room: string, overrides: Partial<RoomRecord> = {}): RoomRecord => ({
  room,
  owner: 'Alice',
  visibility: 'public',
  topic: `about ${room}`,
  slowModeMs: 0,
  direct: false,
  createdAt: 1,
  ...overrides,
});

/** The room registry's contract, run against every implementation. */
export function registrySuite(factory: BackendFactory): void {
  describe(`room registry (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('claims a room once: the second claim loses, the owner is its first member, unclaimed rooms have no standing', async () => {
      const { rooms } = await factory.create();
      expect(await rooms.standing('den', 'alice')).toEqual({ claimed: false });
      expect(await rooms.claim(record('den', { visibility: 'private' }))).toBe(true);
      expect(await rooms.claim(record('den', { owner: 'bob' }))).toBe(false);
      expect(await rooms.get('den')).toMatchObject({ owner: 'Alice', visibility: 'private', topic: 'about den' });
      expect(await rooms.members('den')).toEqual([{ username: 'Alice', role: 'owner' }]);
      expect(await rooms.standing('den', 'ALICE')).toEqual({ claimed: true, visibility: 'private', slowModeMs: 0, role: 'owner', banned: false });
      expect(await rooms.standing('den', undefined)).toMatchObject({ role: undefined, banned: false });
      expect(rooms.isClaimed('den')).toBe(true);
      expect(rooms.isClaimed('elsewhere')).toBe(false);
    });

    it('claims with other members (a direct conversation) and lists every member room per user', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('dm-x', { direct: true, visibility: 'private' }), ['bob']);
      await rooms.claim(record('other'));
      expect((await rooms.members('dm-x')).sort((a, b) => a.username.localeCompare(b.username))).toEqual([
        { username: 'Alice', role: 'owner' },
        { username: 'bob', role: 'member' },
      ]);
      expect(await rooms.roomsOf('alice')).toEqual(['dm-x', 'other']);
      expect(await rooms.roomsOf('Bob')).toEqual(['dm-x']);
      expect((await rooms.get('dm-x'))?.direct).toBe(true);
    });

    it('adds, promotes and removes members, but never changes the owner', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      await rooms.setMember('den', 'bob', 'member');
      await rooms.setMember('den', 'Bob', 'moderator');
      await rooms.setMember('den', 'alice', 'member');
      expect(await rooms.standing('den', 'bob')).toMatchObject({ role: 'moderator' });
      expect(await rooms.standing('den', 'alice')).toMatchObject({ role: 'owner' });
      expect(await rooms.removeMember('den', 'BOB')).toBe(true);
      expect(await rooms.removeMember('den', 'bob')).toBe(false);
      expect(await rooms.standing('den', 'bob')).toMatchObject({ role: undefined });
      expect(await rooms.roomsOf('bob')).toEqual([]);
    });

    it('bans users and guests case-insensitively until unbanned', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      await rooms.ban('den', 'Mallory');
      await rooms.ban('den', 'guest:Troll');
      expect(await rooms.standing('den', 'mallory')).toMatchObject({ banned: true });
      expect(await rooms.standing('den', 'guest:troll')).toMatchObject({ banned: true });
      expect(await rooms.standing('den', 'troll')).toMatchObject({ banned: false });
      expect(await rooms.unban('den', 'MALLORY')).toBe(true);
      expect(await rooms.unban('den', 'mallory')).toBe(false);
      expect(await rooms.standing('den', 'mallory')).toMatchObject({ banned: false });
    });

    it('changes settings, and the directory follows visibility', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      expect(await rooms.update('den', { topic: 'new', slowModeMs: 500 })).toMatchObject({ topic: 'new', slowModeMs: 500, visibility: 'public' });
      expect(await rooms.standing('den', 'x')).toMatchObject({ slowModeMs: 500 });
      expect((await rooms.directory('', undefined)).rooms.map((room) => room.room)).toEqual(['den']);
      await rooms.update('den', { visibility: 'unlisted' });
      expect((await rooms.directory('', undefined)).rooms).toEqual([]);
      expect(await rooms.update('nobody', { topic: 'x' })).toBeUndefined();
    });

    it('keeps invite tokens until they expire', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      await rooms.addInvite('den', 'tok-1', 150);
      expect(await rooms.inviteValid('den', 'tok-1')).toBe(true);
      expect(await rooms.inviteValid('den', 'tok-2')).toBe(false);
      expect(await rooms.inviteValid('elsewhere', 'tok-1')).toBe(false);
      await sleep(300);
      expect(await rooms.inviteValid('den', 'tok-1')).toBe(false);
    });

    it('slow mode lets a person post once per interval, each person on their own clock, and says how long to wait', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      expect(await rooms.takeSlowMode('den', 'bob', 400)).toBe(0);
      const wait = await rooms.takeSlowMode('den', 'BOB', 400);
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(400);
      expect(await rooms.takeSlowMode('den', 'carol', 400)).toBe(0);
      await sleep(wait + 100);
      expect(await rooms.takeSlowMode('den', 'bob', 400)).toBe(0);
    });

    it('keeps the audit list newest first, naming who did what', async () => {
      const { rooms } = await factory.create();
      await rooms.claim(record('den'));
      await rooms.audit('den', { action: 'ban', by: 'Alice', target: 'mallory', ts: 1 });
      await rooms.audit('den', { action: 'unban', by: 'bob', target: 'mallory', ts: 2 });
      expect(await rooms.auditList('den', 10)).toEqual([
        { action: 'unban', by: 'bob', target: 'mallory', ts: 2 },
        { action: 'ban', by: 'Alice', target: 'mallory', ts: 1 },
      ]);
      expect(await rooms.auditList('den', 1)).toHaveLength(1);
    });

    it('pages the directory by name, searches any case, and lists only public rooms and online unclaimed ones', async () => {
      const backend = await factory.create();
      const { rooms, presence } = backend;
      const count = DIRECTORY_PAGE_SIZE + 5;
      for (let i = 0; i < count; i += 1) await rooms.claim(record(`pub-${String(i).padStart(2, '0')}`));
      await rooms.claim(record('secret', { visibility: 'private' }));
      await rooms.claim(record('hidden', { visibility: 'unlisted' }));
      await presence.join('secret', 'c1', 'alice');
      await presence.join('hidden', 'c2', 'alice');
      await presence.join('Open-Lobby', 'c3', null);
      await presence.join('pub-03', 'c4', 'bob');
      const seen: Array<{ room: string; online: number; members: number; topic: string }> = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page += 1) {
        const answer = await rooms.directory('', cursor);
        expect(answer.rooms.length).toBeLessThanOrEqual(DIRECTORY_PAGE_SIZE);
        seen.push(...answer.rooms);
        if (answer.cursor === null) break;
        cursor = answer.cursor;
      }
      const names = seen.map((room) => room.room);
      expect(names).toHaveLength(count + 1);
      expect(new Set(names).size).toBe(names.length);
      expect(names).toContain('Open-Lobby');
      expect(names).not.toContain('secret');
      expect(names).not.toContain('hidden');
      expect(seen.find((room) => room.room === 'pub-03')).toEqual({ room: 'pub-03', topic: 'about pub-03', members: 1, online: 1 });
      expect(seen.find((room) => room.room === 'Open-Lobby')).toEqual({ room: 'Open-Lobby', topic: '', members: 0, online: 1 });

      const search = await rooms.directory('PUB-1', undefined);
      expect(search.rooms.map((room) => room.room)).toEqual(Array.from({ length: 10 }, (_, i) => `pub-1${i}`));
      expect((await rooms.directory('', 'not a cursor!')).rooms).toEqual([]);
    });
  });
}
