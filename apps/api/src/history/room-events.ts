import {
  SERVER_FRAME,
  compareMessageIds,
  messageIdTime,
  type ChatDeleteFrame,
  type ChatEditFrame,
  type ChatMessage,
  type ErrorCode,
  type MessageState,
  type ReactionFrame,
} from '@roomcast/protocol';

/**
 * The changes to messages that are events of a room's log beside the messages themselves (#13):
 * an edit, a deletion, a reaction. Each is appended through the one publish path, gets an ID in
 * the room's one sequence, is fanned out and replayed like a message, and is checked against the
 * log (target kept, actor allowed, target not deleted) in the same atomic step as its append.
 */

/** Who does something: the fields a chat frame names its sender with. */
export interface Actor {
  user: string | null;
  guest?: string;
  via?: 'api';
}

/**
 * Whose messages an actor may edit or delete: `own` (the author only), `any` (a room's
 * moderators, #14), `none` (guests: a guest name is no proof of identity).
 */
export type ChangeRight = 'own' | 'any' | 'none';

interface ChangeBase extends Actor {
  room: string;
  /** The message the change applies to. */
  target: string;
}

export interface EditDraft extends ChangeBase {
  kind: 'edit';
  message: string;
  mentions?: string[];
  right: ChangeRight;
}

export interface DeleteDraft extends ChangeBase {
  kind: 'delete';
  right: ChangeRight;
}

export interface ReactionDraft extends ChangeBase {
  kind: 'reaction';
  emoji: string;
  /** Set (true) or take back (false) the reaction; undefined toggles it (the socket frame). */
  on?: boolean;
}

export type ChangeDraft = EditDraft | DeleteDraft | ReactionDraft;
export type ChangeKind = ChangeDraft['kind'];
export type ChangeFrame = ChatEditFrame | ChatDeleteFrame | ReactionFrame;

/** The actor's fields in frame order, without undefined ones. */
export const actorOf = ({ user, guest, via }: Actor): Actor => ({
  user,
  ...(guest === undefined ? {} : { guest }),
  ...(via === undefined ? {} : { via }),
});

/**
 * How the log names an actor: `alice`, `api:NAME` for a service, `guest:NAME` for a named guest,
 * '' for an anonymous one. The author check compares these, so `api:alice` is not `alice`.
 */
export function actorName({ user, guest, via }: Actor): string {
  if (user !== null) return via === undefined ? user : `${via}:${user}`;
  return guest === undefined ? '' : `guest:${guest}`;
}

export function parseActorName(field: string | undefined): Actor {
  if (field === undefined || field === '') return { user: null };
  if (field.startsWith('guest:')) return { user: null, guest: field.slice(6) };
  if (field.startsWith('api:')) return { user: field.slice(4), via: 'api' };
  return { user: field };
}

/**
 * The frame a change becomes once stored under `id` (`on`: what a reaction did). Keys in frame
 * order, the time last, so that the Redis script can join it around the ID and the time and both
 * backends send the same bytes.
 */
export function storedChange(draft: ChangeDraft, id: string, on = true): ChangeFrame {
  const head = { id, room: draft.room, target: draft.target };
  const ts = messageIdTime(id);
  if (draft.kind === 'edit') {
    const mentions = draft.mentions !== undefined && draft.mentions.length > 0 ? { mentions: draft.mentions } : {};
    return { type: SERVER_FRAME.chatEdit, ...head, message: draft.message, ...mentions, ...actorOf(draft), ts };
  }
  if (draft.kind === 'delete') return { type: SERVER_FRAME.chatDelete, ...head, ...actorOf(draft), ts };
  return { type: SERVER_FRAME.reaction, ...head, emoji: draft.emoji, ...actorOf(draft), on, ts };
}

/** A change the log refused: `not_found` (target not kept, or deleted) or `forbidden` (not the actor's to change). */
export class ChangeRefused extends Error {
  constructor(readonly code: Extract<ErrorCode, 'not_found' | 'forbidden'>) {
    super(`change refused: ${code}`);
    this.name = 'ChangeRefused';
  }
}

/** What a person is told when the log refuses a change (socket error frames and HTTP answers alike). */
export const CHANGE_REFUSAL_REASONS = {
  not_found: 'No such message in the kept history (or it was deleted).',
  forbidden: 'That message is not yours to change.',
} as const;

/** What the log keeps about one message beside its entry: the overlay `GET` applies. */
export interface MessageOverlay {
  /** Time of the latest edit, its text and mentions. */
  edited?: number;
  message?: string;
  mentions?: string[];
  /** IDs of the message's edit events: their text goes when the message is deleted. */
  edits?: string[];
  /** Who reacted with each emoji (actor names), in the order they did. */
  reactions?: Record<string, string[]>;
  /** Deleted: only the author (actor name) and the time are kept. */
  deleted?: true;
  author?: string;
}

/** A message in its current state: the stored message with its overlay applied. */
export function messageState(message: ChatMessage, overlay: MessageOverlay | undefined): MessageState {
  if (overlay === undefined) return message;
  const state: MessageState = { ...message };
  if (overlay.edited !== undefined && overlay.message !== undefined) {
    state.message = overlay.message;
    state.edited = overlay.edited;
    if (overlay.mentions !== undefined && overlay.mentions.length > 0) state.mentions = overlay.mentions;
    else delete state.mentions;
  }
  const reactions = Object.entries(overlay.reactions ?? {}).filter(([, who]) => who.length > 0);
  if (reactions.length > 0) state.reactions = Object.fromEntries(reactions);
  return state;
}

/** A deleted message as `GET` lists it: who wrote it and when, no text. */
export const tombstone = (room: string, id: string, author: string | undefined): MessageState => ({
  type: SERVER_FRAME.chatMessage,
  id,
  room,
  ...actorOf(parseActorName(author)),
  ts: messageIdTime(id),
  deleted: true,
});

/**
 * One page of `GET /rooms/:room/messages`, newest `limit` before a point, oldest first: the kept
 * messages (newest first, `limit + 1` of them unless the log ran out: `exhausted`) merged with the
 * tombstones (newest first) of deleted ones, which no longer have an entry in the log.
 */
export function mergePage(
  live: MessageState[],
  tombstones: MessageState[],
  limit: number,
  exhausted: boolean,
): { messages: MessageState[]; hasMore: boolean } {
  const floor = exhausted ? undefined : live.at(-1)?.id;
  const dead = floor === undefined ? tombstones : tombstones.filter((t) => compareMessageIds(t.id, floor) > 0);
  const merged = [...live, ...dead].sort((a, b) => compareMessageIds(b.id, a.id));
  return { messages: merged.slice(0, limit).reverse(), hasMore: merged.length > limit };
}
