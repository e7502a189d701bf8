import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackendFactory } from '../backends.js';

/** The read store's contract (#13), run against every implementation. */
export function readStoreSuite(factory: BackendFactory): void {
  describe(`read store (${factory.name})`, () => {
    beforeAll(() => factory.setUp());
    afterAll(() => factory.tearDown());
    afterEach(() => factory.reset());

    it('moves a read position forward only, and lists the user’s rooms', async () => {
      const { reads } = await factory.create();
      expect(await reads.rooms('alice')).toEqual([]);
      expect(await reads.markRead('alice', 'lobby', '100-5')).toBe('100-5');
      expect(await reads.markRead('alice', 'lobby', '100-4')).toBe('100-5');
      expect(await reads.markRead('alice', 'lobby', '99-9')).toBe('100-5');
      expect(await reads.markRead('Alice', 'lobby', '1000-0')).toBe('1000-0');
      await reads.notePoster('alice', 'kitchen');
      await reads.notePoster('alice', 'lobby');
      const rooms = await reads.rooms('ALICE');
      expect(rooms.sort((a, b) => a.room.localeCompare(b.room))).toEqual([{ room: 'kitchen' }, { room: 'lobby', readId: '1000-0' }]);
      expect(await reads.rooms('bob')).toEqual([]);
    });

    it('knows who posted in or read a room, case-insensitively, and is shared by every node', async () => {
      const one = await factory.create();
      const other = await factory.create();
      await one.reads.notePoster('Alice', 'lobby');
      await other.reads.markRead('bob', 'lobby', '5-0');
      await one.reads.markRead('carol', 'kitchen', '5-0');
      const seen = factory.name === 'memory' ? one : other;
      expect(await seen.reads.readers('lobby', ['alice', 'BOB', 'carol', 'dave'])).toEqual(factory.name === 'memory' ? ['alice'] : ['alice', 'BOB']);
      expect(await one.reads.readers('lobby', [])).toEqual([]);
      expect(await one.reads.readers('nowhere', ['alice'])).toEqual([]);
    });

    it('keeps the highest of concurrent positions', async () => {
      const one = await factory.create();
      const other = factory.name === 'memory' ? one : await factory.create();
      const ids = Array.from({ length: 20 }, (_, n) => `${1000 + n}-${n % 3}`);
      await Promise.all(ids.map((id, n) => (n % 2 ? one : other).reads.markRead('dave', 'lobby', id)));
      expect(await one.reads.rooms('dave')).toEqual([{ room: 'lobby', readId: '1019-1' }]);
    });
  });
}
