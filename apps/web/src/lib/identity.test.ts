import { describe, expect, it } from 'vitest';
import { forgetOwner, guestId, ownMessagesKey, ownerKey } from './identity.js';
import { OwnMessages } from './own-messages.js';

/** The part of localStorage these functions use, over a Map. */
class MapStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  clear(): void {
    this.items.clear();
  }
}

describe('"You" is kept per user, and per browser for a guest', () => {
  it('keys marks by owner: another user, or a guest, does not see ops’s messages as theirs', () => {
    const store = new MapStorage();
    const ops = new OwnMessages('lobby', ownerKey('ops', store), store);
    ops.add('1-0');
    expect(new OwnMessages('lobby', ownerKey('OPS', store), store).has('1-0')).toBe(true);
    expect(new OwnMessages('lobby', ownerKey('carol', store), store).has('1-0')).toBe(false);
    expect(new OwnMessages('lobby', ownerKey(null, store), store).has('1-0')).toBe(false);
  });

  it('a guest keeps one ID per browser; logout forgets that user’s marks in every room', () => {
    const store = new MapStorage();
    expect(guestId(store)).toBe(guestId(store));
    expect(ownerKey(null, store)).toBe(`guest:${guestId(store)}`);
    new OwnMessages('lobby', ownerKey('ops', store), store).add('1-0');
    new OwnMessages('kitchen', ownerKey('ops', store), store).add('2-0');
    new OwnMessages('lobby', ownerKey('carol', store), store).add('3-0');
    forgetOwner(ownerKey('ops', store), store);
    expect(store.getItem(ownMessagesKey('user:ops', 'lobby'))).toBeNull();
    expect(store.getItem(ownMessagesKey('user:ops', 'kitchen'))).toBeNull();
    expect(new OwnMessages('lobby', ownerKey('carol', store), store).has('3-0')).toBe(true);
  });
});
