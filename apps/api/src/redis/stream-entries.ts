import { actorName, parseActorName, storedChange, type ChangeDraft, type MessageOverlay } from '../history/room-events.js';
import { EVERY_SENDER, storedMessage, type MessageDraft, type ReadMessage } from '../history/room-history.js';

/**
 * The log's entries as the Redis Stream holds them, both ways: the frame an append script joins
 * around the ID, the fields an entry is read back from, and the state hash's JSON.
 */

/** A stream entry as XRANGE returns it: the ID, then field names and values in turn. */
export type StreamEntry = [id: string, fields: string[]];

/**
 * An entry's frame split around what only Redis knows when the append runs: the ID, the time
 * that is the ID's first half, and whether a reaction is now on. The script joins
 * `before + id + between + [on + after] + time + '}'`, which is byte for byte the frame
 * `storedMessage` / `storedChange` make (same key order: the ID second, `on` and the time last),
 * so frames read the same on both backends.
 */
export function frameAroundId(draft: MessageDraft | ChangeDraft): { type: string; before: string; between: string; after: string } {
  const frame = 'kind' in draft ? storedChange(draft, '0-0') : storedMessage(draft, '0-0');
  const { type, id: _id, ts: _ts, ...rest } = frame;
  const on = 'on' in rest;
  if (on) delete (rest as { on?: boolean }).on;
  return {
    type,
    before: `{"type":${JSON.stringify(type)},"id":"`,
    between: `",${JSON.stringify(rest).slice(1, -1)},${on ? '"on":' : '"ts":'}`,
    after: on ? ',"ts":' : '',
  };
}

/** The stream entry's `user` field: see `actorName` (absent for an anonymous guest). */
export const streamAuthor = actorName;

/**
 * One stream entry as a chat message or a change, carrying its nonce when sent under `scope`; a
 * sentence saying why when the entry is not one of ours.
 */
export function entryFrame(room: string, [id, fields]: StreamEntry, scope?: string): ReadMessage | string {
  const field: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) field[fields[i]!] = fields[i + 1]!;
  const actor = parseActorName(field.user);
  const mentions = field.mentions === undefined || field.mentions === '' ? {} : { mentions: field.mentions.split(',') };
  let stored: ReadMessage;
  if (field.kind === 'edit' || field.kind === 'delete' || field.kind === 'reaction') {
    const base = { room, target: field.target ?? '', ...actor, right: 'own' as const };
    if (field.kind === 'edit' && field.message === undefined) return 'an edit with no message field';
    stored =
      field.kind === 'edit'
        ? storedChange({ ...base, kind: 'edit', message: field.message!, ...mentions }, id)
        : field.kind === 'delete'
          ? storedChange({ ...base, kind: 'delete' }, id)
          : storedChange({ ...base, kind: 'reaction', emoji: field.emoji ?? '' }, id, field.on === '1');
  } else {
    if (field.message === undefined) return 'a stream entry with no message field';
    const reply = field.reply === undefined ? {} : { replyTo: field.reply };
    stored = storedMessage({ room, ...actor, message: field.message, ...reply, ...mentions }, id);
  }
  const { nonce, scope: sentUnder } = field;
  if (scope === undefined || nonce === undefined || sentUnder === undefined) return stored;
  if (scope === EVERY_SENDER) return { ...stored, nonce, nonceScope: sentUnder };
  return sentUnder === scope ? { ...stored, nonce } : stored;
}

/** The time half of a message ID, as a sorted-set score. */
export const messageIdMs = (id: string): string => id.slice(0, id.indexOf('-'));

/** The state hash's JSON for one message (see the append script), as an overlay; junk is ignored. */
export function parseOverlay(raw: string | null): MessageOverlay | undefined {
  if (raw === null) return undefined;
  let data: { e?: unknown; m?: unknown; n?: unknown; x?: unknown; r?: unknown; d?: unknown; a?: unknown };
  try {
    data = JSON.parse(raw) as typeof data;
  } catch {
    return undefined;
  }
  const overlay: MessageOverlay = {};
  if (data.d === 1) return { deleted: true, author: typeof data.a === 'string' ? data.a : '' };
  if (typeof data.e === 'string' && typeof data.m === 'string') {
    overlay.edited = Number(data.e);
    overlay.message = data.m;
    overlay.mentions = typeof data.n === 'string' && data.n !== '' ? data.n.split(',') : [];
  }
  if (data.r !== null && typeof data.r === 'object' && !Array.isArray(data.r)) {
    overlay.reactions = Object.fromEntries(
      Object.entries(data.r as Record<string, unknown>).filter((pair): pair is [string, string[]] => Array.isArray(pair[1])),
    );
  }
  return overlay;
}

