/** The tab's title: `base`, with `(count) ` in front while there is something unread. */
export function showTitle(base: string, count: number): void {
  if (typeof document === 'undefined') return;
  document.title = count > 0 ? `(${count}) ${base}` : base;
}

/** The title of a route with nothing unread: the lobby's, or a room's. */
export const baseTitle = (room?: string): string => (room === undefined ? 'Roomcast' : `#${room} · Roomcast`);
