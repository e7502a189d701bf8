/**
 * Message IDs are opaque to users, but both backends mint them in one form, `<ms>-<seq>` (a
 * Redis Stream ID), so our own client can order them and drop duplicates after a resume.
 */
const MESSAGE_ID = /^(\d{1,16})-(\d{1,16})$/;
/** The form of a message ID, for schemas (query strings, `target`, `replyTo`). */
export const MESSAGE_ID_PATTERN = MESSAGE_ID;

export const isMessageId = (value: unknown): value is string =>
  typeof value === 'string' && MESSAGE_ID.test(value);

function partsOf(id: string): [number, number] {
  const match = MESSAGE_ID.exec(id);
  if (!match) throw new TypeError(`not a message ID: ${JSON.stringify(id)}`);
  return [Number(match[1]), Number(match[2])];
}

/** The time a message was stored, in ms since the epoch: the first part of its ID. */
export const messageIdTime = (id: string): number => Number(id.slice(0, id.indexOf('-')));

/** Negative when `a` comes before `b` in a room, zero when equal, positive after. */
export function compareMessageIds(a: string, b: string): number {
  const [aMs, aSeq] = partsOf(a);
  const [bMs, bSeq] = partsOf(b);
  return aMs === bMs ? aSeq - bSeq : aMs - bMs;
}

/** The ID that comes right after `id`: `<ms>-<seq+1>`, as the history backends mint them. */
export function nextMessageId(previous: string | undefined, nowMs: number): string {
  if (previous === undefined) return `${nowMs}-0`;
  const [ms, seq] = partsOf(previous);
  return nowMs > ms ? `${nowMs}-0` : `${ms}-${seq + 1}`;
}
