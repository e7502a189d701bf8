import { ownMessagesKey, storage } from './identity.js';

/** How many of our own message IDs a room remembers (the newest). */
const REMEMBERED = 500;

/**
 * IDs of the messages one owner (a user, or this browser's guest: `ownerKey`) sent to a room. A
 * guest's messages say `user: null`, so only this list tells which were theirs after a reload.
 */
export class OwnMessages {
  private readonly ids: string[];
  private readonly set: Set<string>;
  private readonly key: string;

  constructor(room: string, owner: string, private readonly store: Storage | undefined = storage()) {
    this.key = ownMessagesKey(owner, room);
    this.ids = this.read();
    this.set = new Set(this.ids);
  }

  private read(): string[] {
    try {
      const parsed: unknown = JSON.parse(this.store?.getItem(this.key) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : [];
    } catch {
      return [];
    }
  }

  has(id: string): boolean {
    return this.set.has(id);
  }

  add(id: string): void {
    if (this.set.has(id)) return;
    this.set.add(id);
    this.ids.push(id);
    while (this.ids.length > REMEMBERED) this.set.delete(this.ids.shift()!);
    try {
      this.store?.setItem(this.key, JSON.stringify(this.ids));
    } catch {
      // Full or blocked storage: the mark still holds for this page.
    }
  }
}
