/** Browser-side identity: who "You" is, and a guest's chosen name, kept in localStorage. */

const GUEST_ID_KEY = 'roomcast:guest-id';
const GUEST_NAME_KEY = 'roomcast:guest-name';
const OWN_PREFIX = 'roomcast:own:';

export function storage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    // Storage can be blocked (privacy settings); then everything lasts as long as the page.
    return undefined;
  }
}

/** A random ID for this browser as a guest, made once (and again after a logout). */
export function guestId(store: Storage | undefined = storage()): string {
  let id = store?.getItem(GUEST_ID_KEY) ?? undefined;
  if (id === undefined) {
    id = globalThis.crypto.randomUUID();
    try {
      store?.setItem(GUEST_ID_KEY, id);
    } catch {
      // full or blocked: this page keeps the ID
    }
  }
  return id;
}

/**
 * Whose "You" marks to use: a user's by name, a guest's by this browser's guest ID. Two people
 * sharing a browser, or a guest after a logout, never see each other's messages as "You".
 */
export const ownerKey = (username: string | null, store: Storage | undefined = storage()): string =>
  username === null ? `guest:${guestId(store)}` : `user:${username.toLowerCase()}`;

/** The storage key of an owner's marks in a room. */
export const ownMessagesKey = (owner: string, room: string): string => `${OWN_PREFIX}${owner}:${room}`;

/** Forgets every "You" mark of `owner` (at logout), and the guest ID when it is a guest's. */
export function forgetOwner(owner: string, store: Storage | undefined = storage()): void {
  if (!store) return;
  const prefix = `${OWN_PREFIX}${owner}:`;
  const keys: string[] = [];
  for (let i = 0; i < store.length; i += 1) {
    const key = store.key(i);
    if (key?.startsWith(prefix)) keys.push(key);
  }
  for (const key of keys) store.removeItem(key);
}

export const savedGuestName = (store: Storage | undefined = storage()): string | undefined => store?.getItem(GUEST_NAME_KEY) ?? undefined;

export function saveGuestName(name: string | undefined, store: Storage | undefined = storage()): void {
  try {
    if (name === undefined) store?.removeItem(GUEST_NAME_KEY);
    else store?.setItem(GUEST_NAME_KEY, name);
  } catch {
    // full or blocked: the name lasts as long as the page
  }
}
