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
  appendOnce?(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs?: number): Promise<AppendOnceResult>;
  /** Every kept message after `afterId`, oldest first. */
  readAfter(room: string, afterId: string): Promise<ReadAfterResult>;
  /** Up to `limit` messages before `beforeId` (or the newest when undefined), oldest first. */
  readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult>;
  close(): Promise<void>;
}
