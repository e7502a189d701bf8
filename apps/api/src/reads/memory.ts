import { compareMessageIds } from '@roomcast/protocol';
import { NOT_READ, type ReadStore } from './read-store.js';

/** The embedded read store: one map per user, one set per room. */
export class MemoryReadStore implements ReadStore {
  private readonly positions = new Map<string, Map<string, string>>();
  private readonly roomReaders = new Map<string, Set<string>>();

  private of(user: string): Map<string, string> {
    const key = user.toLowerCase();
    let rooms = this.positions.get(key);
    if (!rooms) {
      rooms = new Map();
      this.positions.set(key, rooms);
    }
    return rooms;
  }

  private join(user: string, room: string): void {
    let readers = this.roomReaders.get(room);
    if (!readers) {
      readers = new Set();
      this.roomReaders.set(room, readers);
    }
    readers.add(user.toLowerCase());
  }

  async markRead(user: string, room: string, id: string): Promise<string> {
    const rooms = this.of(user);
    const held = rooms.get(room) ?? NOT_READ;
    const now = held === NOT_READ || compareMessageIds(id, held) > 0 ? id : held;
    rooms.set(room, now);
    this.join(user, room);
    return now;
  }

  async notePoster(user: string, room: string): Promise<void> {
    const rooms = this.of(user);
    if (!rooms.has(room)) rooms.set(room, NOT_READ);
    this.join(user, room);
  }

  async rooms(user: string): Promise<Array<{ room: string; readId?: string }>> {
    return [...(this.positions.get(user.toLowerCase()) ?? [])].map(([room, id]) => (id === NOT_READ ? { room } : { room, readId: id }));
  }

  async readers(room: string, names: readonly string[]): Promise<string[]> {
    const readers = this.roomReaders.get(room);
    return readers ? names.filter((name) => readers.has(name.toLowerCase())) : [];
  }

  async close(): Promise<void> {
    this.positions.clear();
    this.roomReaders.clear();
  }
}
