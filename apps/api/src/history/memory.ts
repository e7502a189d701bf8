import { SERVER_FRAME, compareMessageIds, messageIdTime, nextMessageId, serializeFrame, type ChatMessage } from '@roomcast/protocol';
import { roomGroup, type ChannelLayer } from '../layer/channel-layer.js';
import {
  frameBytesEstimate,
  type AppendOrigin,
  type MessageDraft,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ReplayStart,
  type RoomHistory,
} from './room-history.js';

interface RoomLog {
  /** Oldest first; the kept history is `messages[head..]`, the entries before `head` are trimmed. */
  messages: ChatMessage[];
  head: number;
  lastId: string | undefined;
  /** ID of the newest message trimmed away, if any: a resume from before it is incomplete. */
  trimmedThrough: string | undefined;
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

/** The embedded room history: one array per room, trimmed to `limit`, fanned out synchronously. */
export class MemoryRoomHistory implements RoomHistory {
  private readonly rooms = new Map<string, RoomLog>();
  /** Trimmed entries a log may hold before they are dropped: at most a quarter of the limit. */
  private readonly compactAt: number;

  constructor(
    private readonly layer: ChannelLayer,
    private readonly limit: number,
    private readonly now: () => number = Date.now,
  ) {
    this.compactAt = Math.max(1, limit >>> 2);
  }

  private log(room: string): RoomLog {
    let log = this.rooms.get(room);
    if (!log) {
      log = { messages: [], head: 0, lastId: undefined, trimmedThrough: undefined };
      this.rooms.set(room, log);
    }
    return log;
  }

  async append(draft: MessageDraft, origin: AppendOrigin = {}): Promise<ChatMessage> {
    const log = this.log(draft.room);
    const id = nextMessageId(log.lastId, this.now());
    const message: ChatMessage = {
      type: SERVER_FRAME.chatMessage,
      id,
      room: draft.room,
      user: draft.user,
      message: draft.message,
      ts: messageIdTime(id),
    };
    log.lastId = id;
    log.messages.push(message);
    if (log.messages.length - log.head > this.limit) {
      log.head = log.messages.length - this.limit;
      log.trimmedThrough = log.messages[log.head - 1]!.id;
      // Trimmed entries are dropped in batches: one splice per quarter-limit appends, not one
      // array shift per message (which cost two thirds of an append at the default limit).
      if (log.head >= this.compactAt) {
        log.messages.splice(0, log.head);
        log.head = 0;
      }
    }
    // Stored and sent in the same turn of the event loop: the log order is the delivery order.
    await this.layer.groupSend(roomGroup(draft.room), {
      type: SERVER_FRAME.chatMessage,
      frame: serializeFrame(message),
      id,
      ...(origin.sender === undefined ? {} : { sender: origin.sender }),
      ...(origin.nonce === undefined ? {} : { nonce: origin.nonce }),
    });
    return message;
  }

  async readAfter(room: string, afterId: string, limit?: number): Promise<ReadAfterResult> {
    const log = this.rooms.get(room);
    if (!log) return { messages: [], complete: true };
    const complete = log.trimmedThrough === undefined || compareMessageIds(afterId, log.trimmedThrough) >= 0;
    const start = firstAfter(log.messages, afterId, log.head);
    return { messages: log.messages.slice(start, limit === undefined ? undefined : start + limit), complete };
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
  }
}
