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

/** A display name for a message author or a present user; `null` is an anonymous sender. */
export const displayName = (user: string | null): string => user ?? 'Guest';

/** One of eight avatar colours, stable per name, as a class (no inline styles: CSP). */
export function avatarClass(user: string | null): string {
  if (user === null) return 'avatar-guest';
  let hash = 0;
  for (const char of user) hash = (hash * 31 + char.codePointAt(0)!) >>> 0;
  return `avatar-${hash % 8}`;
}

export const initialOf = (user: string | null): string => (user === null ? '?' : [...user][0]!.toUpperCase());
