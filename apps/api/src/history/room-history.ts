import type { ChatMessage } from '@roomcast/protocol';

/** What a publisher hands to the history: everything but what the history assigns. */
export interface MessageDraft {
  room: string;
  user: string | null;
  message: string;
}

export interface ReadAfterResult {
  messages: ChatMessage[];
  /** False when messages after the given ID were already trimmed from the kept history. */
  complete: boolean;
}

export interface ReadBeforeResult {
  /** Oldest first. */
  messages: ChatMessage[];
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
export const frameBytesEstimate = (message: { id: string; room: string; user: string | null; message: string }): number =>
  FRAME_OVERHEAD_BYTES + Buffer.byteLength(message.message) + (message.user?.length ?? 0) + message.room.length + message.id.length;

/** Who to tell, along with everyone in the room, about a newly appended message. */
export interface AppendOrigin {
  /** Channel name of the sending connection, so its copy can carry the nonce. */
  sender?: string;
  nonce?: string;
}

/** What `appendOnce` did: stored the message, found the key's first message, or found it still being published. */
export type AppendOnceResult = { state: 'stored' | 'duplicate'; message: ChatMessage } | { state: 'pending' };

/**
 * The ordered log of each room. `append` assigns the message its ID and timestamp, stores it,
 * keeps only the newest `limit` messages, and fans it out to the room's group; the backend does
 * the store and the fan-out together so that the log order and the delivery order are one.
 */
export interface RoomHistory {
  append(draft: MessageDraft, origin?: AppendOrigin): Promise<ChatMessage>;
  /**
   * Optional: appends unless `key` was published before (then answers with that first message),
   * checking and remembering the key in the same atomic step as the append. On Redis that is one
   * round trip per message instead of three (claim, append, complete); a history without it is
   * deduplicated by the publisher through the idempotency store.
   */
  appendOnce?(draft: MessageDraft, origin: AppendOrigin, key: string): Promise<AppendOnceResult>;
  /**
   * Kept messages after `afterId`, oldest first: the first `limit` of them, or all when `limit` is
   * undefined. Resumes read in pages (a limit), so that no read holds a whole room's history.
   */
  readAfter(room: string, afterId: string, limit?: number): Promise<ReadAfterResult>;
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
  close(): Promise<void>;
}
