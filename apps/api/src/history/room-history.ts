import { SERVER_FRAME, messageIdTime, type ChatMessage, type MessageState, type RoomEventFrame } from '@roomcast/protocol';
import { actorOf, type ChangeDraft, type ChangeFrame } from './room-events.js';

/** What a publisher hands to the history: everything but what the history assigns. */
export interface MessageDraft {
  room: string;
  user: string | null;
  /** A guest's chosen name (`user` is null). */
  guest?: string;
  /** Posted with an API key. */
  via?: 'api';
  message: string;
  /** The kept message this one answers (the append refuses `not_found` otherwise). */
  replyTo?: string;
  /** Names of people in the room the text mentions (recognised before the append). */
  mentions?: string[];
}

/** Who wrote a draft, without the text: the fields between `room` and `message` of a frame. */
export const authorOf = (draft: MessageDraft): Pick<ChatMessage, 'user' | 'guest' | 'via'> => actorOf(draft);

/** A draft's reply and mentions, in frame order (between the text and the time), when it has them. */
export const replyAndMentions = ({ replyTo, mentions }: MessageDraft): Pick<ChatMessage, 'replyTo' | 'mentions'> => ({
  ...(replyTo === undefined ? {} : { replyTo }),
  ...(mentions === undefined || mentions.length === 0 ? {} : { mentions }),
});

/**
 * The message a draft becomes once stored under `id`. Its keys are in frame order, so that
 * `serializeFrame` of it is byte for byte the frame either backend sends. Also the answer to a
 * repeat whose first message is no longer kept: the same sender's same send, under its ID.
 */
export const storedMessage = (draft: MessageDraft, id: string): ChatMessage => ({
  type: SERVER_FRAME.chatMessage,
  id,
  room: draft.room,
  ...authorOf(draft),
  message: draft.message,
  ...replyAndMentions(draft),
  ts: messageIdTime(id),
});

/**
 * `readAfter`'s scope for one read shared by several senders' sockets (a catch-up after a gap):
 * every entry sent with a nonce comes with it and with its `nonceScope`, so each socket can give
 * its own messages their nonce back. Never sent to a client as it is.
 */
export const EVERY_SENDER = '*';

/**
 * An entry of the log as `readAfter` answers it (a message or a change to one): with
 * `nonceScope` only when asked for EVERY_SENDER.
 */
export type ReadMessage = RoomEventFrame & { nonceScope?: string };

export interface ReadAfterResult {
  messages: ReadMessage[];
  /** False when messages after the given ID were already trimmed from the kept history. */
  complete: boolean;
}

export interface ReadBeforeResult {
  /** Oldest first, each in its current state (edits and reactions applied, deleted ones as tombstones). */
  messages: MessageState[];
  hasMore: boolean;
}

export interface ReplayStart {
  /** Replay the messages after this ID. */
  after: string;
  /** True when messages after the requested point are skipped to keep within the bytes. */
  cut: boolean;
}

/** Bytes a chat frame takes beyond its text, user, room and ID (keys, quotes, `null`, the time): 85 to 87, rounded up. */
export const FRAME_OVERHEAD_BYTES = 90;

/**
 * About the size of a message's frame, the same way on both backends (the Redis script counts
 * the same parts): the UTF-8 bytes of its text, user, room and ID, plus the fixed rest. JSON
 * escapes are not counted.
 */
export const frameBytesEstimate = (message: { id: string; room: string; user: string | null; message?: string }): number =>
  FRAME_OVERHEAD_BYTES + Buffer.byteLength(message.message ?? '') + (message.user?.length ?? 0) + message.room.length + message.id.length;

/** Who sent a message, for the sender's own copy: live (by channel) and replayed (by scope). */
export interface AppendOrigin {
  /** Channel name of the sending connection, so its live copy can carry the nonce. */
  sender?: string;
  nonce?: string;
  /**
   * Whose nonce it is: `u:NAME` for a signed-in user, `c:CHANNEL` for an anonymous connection.
   * Kept with the stored entry (never in the public frame), so a replay (`since`, a catch-up
   * after a gap) gives the sender's copy its nonce back and the sender sees its send confirmed.
   */
  scope?: string;
}

/** What `appendOnce` did: stored the message, or found the key's first message (nothing new stored). */
export interface AppendOnceResult {
  state: 'stored' | 'duplicate';
  message: ChatMessage;
}

/** What `change` did: stored the change (its frame), or found the key's first one. */
export interface ChangeResult {
  state: 'stored' | 'duplicate';
  event: ChangeFrame;
}

/**
 * The ordered log of each room. `append` assigns the message its ID and timestamp, stores it,
 * keeps only the newest `limit` messages, and fans it out to the room's group; the backend does
 * the store and the fan-out together so that the log order and the delivery order are one.
 */
export interface RoomHistory {
  append(draft: MessageDraft, origin?: AppendOrigin): Promise<ChatMessage>;
  /**
   * Appends unless `key` (a scoped nonce, an `Idempotency-Key`) was published within the
   * idempotency window, then answers with that first message. The check, the append and the
   * record are one atomic step: one script, one round trip on Redis. The record holds the
   * message ID only, so its size does not grow with the message.
   */
  /** `rememberMs` (default: the idempotency window) shortens how long the key is remembered. */
  appendOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs?: number): Promise<AppendOnceResult>;
  /**
   * Appends a change to a message (edit, delete, reaction) to the same log, in the same
   * sequence, fanned out the same way; with `key`, at most once like `appendOnce`. The checks
   * that depend on the log run in the same atomic step: a target not kept (or deleted) throws
   * ChangeRefused `not_found`, an actor whose right does not cover its author `forbidden`. A
   * deletion removes the message's text (and its edits' text) from storage.
   */
  change(draft: ChangeDraft, origin?: AppendOrigin, key?: string): Promise<ChangeResult>;
  /**
   * Kept messages after `afterId`, oldest first: the first `limit` of them, or all when `limit` is
   * undefined. Resumes read in pages (a limit), so that no read holds a whole room's history. The
   * ones sent under `scope` (see AppendOrigin) carry their nonce, as the sender's live copy did.
   */
  readAfter(room: string, afterId: string, limit?: number, scope?: string): Promise<ReadAfterResult>;
  /**
   * Where a replay of the messages after `sinceId` starts so that it carries at most about
   * `maxBytes` of frames (see `frameBytesEstimate`): `sinceId` itself when everything after it
   * fits, else the ID of the newest message that no longer does (`cut`: it and older ones are
   * skipped). Reads newest first and stops as soon as it knows, without sending the messages
   * anywhere (on Redis it runs in a script and answers with one ID).
   */
  replayStart(room: string, sinceId: string, maxBytes: number): Promise<ReplayStart>;
  /** Up to `limit` messages before `beforeId` (or the newest when undefined), oldest first. */
  readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult>;
  /** These rooms are in use (a socket is in them, or just left): their idle time starts again. */
  touch(rooms: readonly string[]): Promise<void>;
  /** Forgets rooms idle for longer than the idle TTL; Redis needs no sweep (its keys expire). */
  forgetIdle(): Promise<number>;
  close(): Promise<void>;
}
