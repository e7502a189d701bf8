const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const dayWithYearFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long', year: 'numeric' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'medium' });

/** "14:05" in the reader's locale. */
export const formatTime = (ts: number): string => timeFormat.format(ts);

/** The full date and time, for a tooltip. */
export const formatFull = (ts: number): string => fullFormat.format(ts);

/** Midnight of the day `ts` falls on, in local time: the key that groups a day's messages. */
export function dayKey(ts: number): number {
  const date = new Date(ts);
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** "Today", "Yesterday", "Monday 3 November", or with the year when it is not this year's. */
export function formatDay(ts: number, now: number = Date.now()): string {
  const day = dayKey(ts);
  const today = dayKey(now);
  if (day === today) return 'Today';
  if (day === dayKey(today - 12 * 3600 * 1000)) return 'Yesterday';
  return new Date(ts).getFullYear() === new Date(now).getFullYear() ? dayFormat.format(ts) : dayWithYearFormat.format(ts);
}

/** Who wrote a message or is typing, as the frames say it. */
export interface Author {
  user: string | null;
  guest?: string | undefined;
  via?: string | undefined;
}

/** A display name: the user's name, "NAME (guest)" for a named guest, "Guest" for an anonymous one. */
export const displayName = ({ user, guest }: Author): string => user ?? (guest === undefined ? 'Guest' : `${guest} (guest)`);

/**
 * The key an author's colour comes from. A named guest's differs from a user's of the same
 * spelling, and a service's from a person's, so a colour never vouches for a name.
 */
const colourKey = ({ user, guest, via }: Author): string | null =>
  user !== null ? (via === undefined ? user : `${via}:${user}`) : guest === undefined ? null : `guest:${guest}`;

/** One of eight avatar colours, stable per author, as a class (no inline styles: CSP). */
export function avatarClass(author: Author): string {
  const key = colourKey(author);
  if (key === null) return 'avatar-guest';
  let hash = 0;
  for (const char of key) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return `avatar-${hash % 8}`;
}

export function initialOf({ user, guest }: Author): string {
  const name = user ?? guest;
  return name === undefined ? '?' : [...name][0]!.toUpperCase();
}
