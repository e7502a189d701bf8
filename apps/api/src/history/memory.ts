import { SERVER_FRAME, compareMessageIds, nextMessageId, serializeFrame, type ChatMessage } from '@roomcast/protocol';
import { roomGroup, type ChannelLayer } from '../layer/channel-layer.js';
import { expiresWhenIdle } from '../rooms/idle-rooms.js';
import { RecentKeys, idempotencyTtlMs, type RecentKeysLimits } from '../rooms/idempotency.js';
import {
  storedMessage,
  type AppendOnceResult,
  EVERY_SENDER,
  frameBytesEstimate,
  type AppendOrigin,
  type MessageDraft,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ReplayStart,
  type RoomHistory,
} from './room-history.js';

/** Whose nonce a stored message carries (see AppendOrigin.scope); never shown publicly. */
interface SenderNonce {
  scope: string;
  nonce: string;
}

interface RoomLog {
  /** Oldest first; the kept history is `messages[head..]`, the entries before `head` are trimmed. */
  messages: ChatMessage[];
  /** Beside `messages`, index for index: the sender's nonce of each, if it had one. */
  senders: Array<SenderNonce | undefined>;
  head: number;
  lastId: string | undefined;
  /** ID of the newest message trimmed away, if any: a resume from before it is incomplete. */
  trimmedThrough: string | undefined;
  /** When a message was last stored or a socket was last seen in the room. */
  touchedAt: number;
}

export interface MemoryHistoryOptions {
  /** A room idle this long (no socket, no message) is forgotten. */
  idleTtlMs: number;
  /** Bounds of the remembered publish keys. */
  keys?: RecentKeysLimits;
  now?: () => number;
  /** Which rooms are claimed, and so kept however long they idle (the backend's room registry). */
  claimed?: { isClaimed(room: string): boolean };
}

/** Index (from `low`) of the first item whose ID is greater than `id` (binary search; IDs in order). */
export function firstAfter(items: ReadonlyArray<{ id: string }>, id: string, low = 0): number {
  let high = items.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareMessageIds(items[mid]!.id, id) <= 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** Index (from `low`) of the first message whose ID is not less than `id`. */
function firstNotBefore(messages: ChatMessage[], id: string, low: number): number {
  let high = messages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (compareMessageIds(messages[mid]!.id, id) < 0) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * The embedded room history: one array per room, trimmed to `limit`, fanned out synchronously.
 * A room idle for `idleTtlMs` is dropped by `forgetIdle`, and publish keys are remembered by
 * message ID only, bounded by count and bytes: nothing here grows with the number of rooms or
 * sends beyond those bounds.
 */
export class MemoryRoomHistory implements RoomHistory {
  private readonly rooms = new Map<string, RoomLog>();
  /** Trimmed entries a log may hold before they are dropped: at most a quarter of the limit. */
  private readonly compactAt: number;
  private readonly keys: RecentKeys;
  private readonly idleTtlMs: number;
  private readonly now: () => number;
  private readonly claimed: MemoryHistoryOptions['claimed'];

  constructor(
    private readonly layer: ChannelLayer,
    private readonly limit: number,
    options: MemoryHistoryOptions,
  ) {
    this.compactAt = Math.max(1, limit >>> 2);
    this.now = options.now ?? Date.now;
    this.idleTtlMs = options.idleTtlMs;
    this.claimed = options.claimed;
    this.keys = new RecentKeys(idempotencyTtlMs(options.idleTtlMs), options.keys, this.now);
  }

  /** Rooms held, and publish keys remembered (for tests and `/metrics`). */
  get stats(): { rooms: number; keys: number; keyBytes: number } {
    return { rooms: this.rooms.size, keys: this.keys.size, keyBytes: this.keys.byteSize };
  }

  private log(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (!log) {
      log = { messages: [], senders: [], head: 0, lastId: undefined, trimmedThrough: undefined, touchedAt: this.now() };
      this.rooms.set(room, log);
    }
    return log;
  }

  async append(draft: MessageDraft, origin: AppendOrigin = {}): Promise<ChatMessage> {
    const message = this.store(draft, origin);
    await this.fanOut(message, origin);
    return message;
  }

  async appendOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs?: number): Promise<AppendOnceResult> {
    // Checked and recorded in the same turn as the store: no repeat can slip in between.
    const prior = this.keys.get(key);
    if (prior !== undefined) return { state: 'duplicate', message: this.find(draft.room, prior) ?? storedMessage(draft, prior) };
    const message = this.store(draft, origin);
    this.keys.set(key, message.id, rememberMs);
    await this.fanOut(message, origin);
    return { state: 'stored', message };
  }

  /** Stores a message (synchronously) and trims the log. */
  private store(draft: MessageDraft, origin: AppendOrigin): ChatMessage {
    const log = this.log(draft.room);
    const now = this.now();
    const message = storedMessage(draft, nextMessageId(log.lastId, now));
    log.lastId = message.id;
    log.touchedAt = now;
    log.messages.push(message);
    log.senders.push(origin.scope !== undefined && origin.nonce !== undefined ? { scope: origin.scope, nonce: origin.nonce } : undefined);
    if (log.messages.length - log.head > this.limit) {
      log.head = log.messages.length - this.limit;
      log.trimmedThrough = log.messages[log.head - 1]!.id;
      // Trimmed entries are dropped in batches: one splice per quarter-limit appends, not one
      // array shift per message (which cost two thirds of an append at the default limit).
      if (log.head >= this.compactAt) {
        log.messages.splice(0, log.head);
        log.senders.splice(0, log.head);
        log.head = 0;
      }
    }
    return message;
  }

  /** Stored and sent in the same turn of the event loop: the log order is the delivery order. */
  private async fanOut(message: ChatMessage, origin: AppendOrigin): Promise<void> {
    await this.layer.groupSend(roomGroup(message.room), {
      type: SERVER_FRAME.chatMessage,
      frame: serializeFrame(message),
      id: message.id,
      ...(origin.sender === undefined ? {} : { sender: origin.sender }),
      ...(origin.nonce === undefined ? {} : { nonce: origin.nonce }),
    });
  }

  /** A kept message by ID. */
  private find(room: string, id: string): ChatMessage | undefined {
    const log = this.rooms.get(room);
    if (!log) return undefined;
    const message = log.messages[firstNotBefore(log.messages, id, log.head)];
    return message?.id === id ? message : undefined;
  }

  async readAfter(room: string, afterId: string, limit?: number, scope?: string): Promise<ReadAfterResult> {
    const log = this.rooms.get(room);
    if (!log) return { messages: [], complete: true };
    const complete = log.trimmedThrough === undefined || compareMessageIds(afterId, log.trimmedThrough) >= 0;
    const start = firstAfter(log.messages, afterId, log.head);
    const messages = log.messages.slice(start, limit === undefined ? undefined : start + limit).map((message, i) => {
      const sender = log.senders[start + i];
      if (scope === undefined || sender === undefined) return message;
      if (scope === EVERY_SENDER) return { ...message, nonce: sender.nonce, nonceScope: sender.scope };
      return sender.scope === scope ? { ...message, nonce: sender.nonce } : message;
    });
    return { messages, complete };
  }

  async touch(rooms: readonly string[]): Promise<void> {
    const now = this.now();
    for (const room of rooms) {
      const log = this.rooms.get(room);
      if (log) log.touchedAt = now;
    }
  }

  async forgetIdle(): Promise<number> {
    this.keys.evictExpired();
    const cutoff = this.now() - this.idleTtlMs;
    let forgotten = 0;
    for (const [room, log] of this.rooms) {
      if (log.touchedAt <= cutoff && expiresWhenIdle(room, this.claimed)) {
        this.rooms.delete(room);
        forgotten += 1;
      }
    }
    return forgotten;
  }

  async replayStart(room: string, sinceId: string, maxBytes: number): Promise<ReplayStart> {
    const messages = this.rooms.get(room)?.messages ?? [];
    const head = this.rooms.get(room)?.head ?? 0;
    let bytes = 0;
    for (let index = messages.length - 1; index >= head; index -= 1) {
      const message = messages[index]!;
      if (compareMessageIds(message.id, sinceId) <= 0) break;
      bytes += frameBytesEstimate(message);
      if (bytes > maxBytes) return { after: message.id, cut: true };
    }
    return { after: sinceId, cut: false };
  }

  async readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult> {
    const log = this.rooms.get(room);
    if (!log) return { messages: [], hasMore: false };
    const end = beforeId === undefined ? log.messages.length : firstNotBefore(log.messages, beforeId, log.head);
    const start = Math.max(log.head, end - limit);
    return { messages: log.messages.slice(start, end), hasMore: start > log.head };
  }

  async close(): Promise<void> {
    this.rooms.clear();
    this.keys.clear();
  }
}
