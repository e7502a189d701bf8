import {
  SERVER_FRAME,
  compareMessageIds,
  nextMessageId,
  serializeFrame,
  type ChatMessage,
  type MessageState,
  type RoomEventFrame,
} from '@roomcast/protocol';
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
  type ChangeResult,
} from './room-history.js';
import {
  ChangeRefused,
  actorName,
  mergePage,
  messageState,
  storedChange,
  tombstone,
  type ChangeDraft,
  type MessageOverlay,
} from './room-events.js';

/** Whose nonce a stored message carries (see AppendOrigin.scope); never shown publicly. */
interface SenderNonce {
  scope: string;
  nonce: string;
}

interface RoomLog {
  /**
   * Oldest first, messages and changes to them; the kept history is `messages[head..]`, the
   * entries before `head` are trimmed. A deleted message and its edits are taken out.
   */
  messages: RoomEventFrame[];
  /** Beside `messages`, index for index: the sender's nonce of each, if it had one. */
  senders: Array<SenderNonce | undefined>;
  head: number;
  lastId: string | undefined;
  /** ID of the newest message trimmed away, if any: a resume from before it is incomplete. */
  trimmedThrough: string | undefined;
  /** When a message was last stored or a socket was last seen in the room. */
  touchedAt: number;
  /** Edits, reactions and deletions of kept messages, by message ID (see MessageOverlay). */
  overlays: Map<string, MessageOverlay>;
  /** IDs of deleted messages, oldest first: listed as tombstones until trimmed. */
  tombstones: string[];
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

/** Index (from `low`) of the first item whose ID is not less than `id`. */
function firstNotBefore(messages: ReadonlyArray<{ id: string }>, id: string, low: number): number {
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
      log = {
        messages: [],
        senders: [],
        head: 0,
        lastId: undefined,
        trimmedThrough: undefined,
        touchedAt: this.now(),
        overlays: new Map(),
        tombstones: [],
      };
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
    if (prior !== undefined) return { state: 'duplicate', message: this.findMessage(draft.room, prior) ?? storedMessage(draft, prior) };
    const message = this.store(draft, origin);
    this.keys.set(key, message.id, rememberMs);
    await this.fanOut(message, origin);
    return { state: 'stored', message };
  }

  /** Stores a message (synchronously) and trims the log; a reply to a message not kept is refused. */
  private store(draft: MessageDraft, origin: AppendOrigin): ChatMessage {
    if (draft.replyTo !== undefined && this.findMessage(draft.room, draft.replyTo) === undefined) throw new ChangeRefused('not_found');
    const log = this.log(draft.room);
    const message = storedMessage(draft, this.nextId(log));
    this.push(log, message, origin);
    return message;
  }

  private nextId(log: RoomLog): string {
    const now = this.now();
    log.lastId = nextMessageId(log.lastId, now);
    log.touchedAt = now;
    return log.lastId;
  }

  /** Appends an entry, then trims the log to `limit`, forgetting the overlays of what it trims. */
  private push(log: RoomLog, entry: RoomEventFrame, origin: AppendOrigin): void {
    log.messages.push(entry);
    log.senders.push(origin.scope !== undefined && origin.nonce !== undefined ? { scope: origin.scope, nonce: origin.nonce } : undefined);
    if (log.messages.length - log.head > this.limit) {
      const head = log.messages.length - this.limit;
      for (let index = log.head; index < head; index += 1) log.overlays.delete(log.messages[index]!.id);
      log.head = head;
      log.trimmedThrough = log.messages[log.head - 1]!.id;
      while (log.tombstones.length > 0 && compareMessageIds(log.tombstones[0]!, log.trimmedThrough) <= 0) {
        log.overlays.delete(log.tombstones.shift()!);
      }
      // Trimmed entries are dropped in batches: one splice per quarter-limit appends, not one
      // array shift per message (which cost two thirds of an append at the default limit).
      if (log.head >= this.compactAt) {
        log.messages.splice(0, log.head);
        log.senders.splice(0, log.head);
        log.head = 0;
      }
    }
  }

  async change(draft: ChangeDraft, origin: AppendOrigin = {}, key?: string): Promise<ChangeResult> {
    // Checked, applied and recorded in one turn: an edit racing a deletion cannot both succeed.
    const prior = key === undefined ? undefined : this.keys.get(key);
    if (prior !== undefined) {
      const first = this.find(draft.room, prior);
      return { state: 'duplicate', event: first !== undefined && first.type !== SERVER_FRAME.chatMessage ? first : storedChange(draft, prior, draft.kind === 'reaction' ? draft.on : undefined) };
    }
    const log = this.rooms.get(draft.room);
    const target = this.findMessage(draft.room, draft.target);
    if (log === undefined || target === undefined) throw new ChangeRefused('not_found');
    const author = actorName(target);
    const actor = actorName(draft);
    if (draft.kind !== 'reaction' && (draft.right === 'none' || (draft.right === 'own' && author !== actor))) throw new ChangeRefused('forbidden');
    const overlay = log.overlays.get(target.id) ?? {};
    let on = true;
    if (draft.kind === 'reaction') {
      const who = overlay.reactions?.[draft.emoji] ?? [];
      on = draft.on ?? !who.includes(actor);
      const rest = who.filter((name) => name !== actor);
      overlay.reactions = { ...overlay.reactions, [draft.emoji]: on ? [...rest, actor] : rest };
    }
    const event = storedChange(draft, this.nextId(log), on);
    if (draft.kind === 'edit') {
      Object.assign(overlay, { edited: event.ts, message: draft.message, mentions: draft.mentions ?? [], edits: [...(overlay.edits ?? []), event.id] });
    }
    if (draft.kind === 'delete') {
      // The text goes from storage: the message's entry and its edits' entries are taken out.
      for (const id of [target.id, ...(overlay.edits ?? [])]) this.remove(log, id);
      log.tombstones.splice(firstAfter(log.tombstones.map((id) => ({ id })), target.id), 0, target.id);
      log.overlays.set(target.id, { deleted: true, author });
    } else log.overlays.set(target.id, overlay);
    this.push(log, event, origin);
    if (key !== undefined) this.keys.set(key, event.id);
    await this.fanOut(event, origin);
    return { state: 'stored', event };
  }

  /** Takes a kept entry out of the log (a deleted message, its edits). */
  private remove(log: RoomLog, id: string): void {
    const index = firstNotBefore(log.messages, id, log.head);
    if (log.messages[index]?.id !== id) return;
    log.messages.splice(index, 1);
    log.senders.splice(index, 1);
  }

  /** A kept chat message (not a change, not deleted) by ID. */
  private findMessage(room: string, id: string): ChatMessage | undefined {
    const entry = this.find(room, id);
    return entry?.type === SERVER_FRAME.chatMessage ? entry : undefined;
  }

  /** Stored and sent in the same turn of the event loop: the log order is the delivery order. */
  private async fanOut(message: RoomEventFrame, origin: AppendOrigin): Promise<void> {
    await this.layer.groupSend(roomGroup(message.room), {
      type: message.type,
      frame: serializeFrame(message),
      id: message.id,
      ...(origin.sender === undefined ? {} : { sender: origin.sender }),
      ...(origin.nonce === undefined ? {} : { nonce: origin.nonce }),
    });
  }

  /** A kept entry by ID. */
  private find(room: string, id: string): RoomEventFrame | undefined {
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
    // Newest first, `limit + 1` kept messages (changes are not listed) and the tombstones before the point.
    const live: MessageState[] = [];
    let index = (beforeId === undefined ? log.messages.length : firstNotBefore(log.messages, beforeId, log.head)) - 1;
    for (; index >= log.head && live.length <= limit; index -= 1) {
      const entry = log.messages[index]!;
      if (entry.type === SERVER_FRAME.chatMessage) live.push(messageState(entry, log.overlays.get(entry.id)));
    }
    const end = beforeId === undefined ? log.tombstones.length : firstNotBefore(log.tombstones.map((id) => ({ id })), beforeId, 0);
    const dead = log.tombstones
      .slice(0, end)
      .reverse()
      .map((id) => tombstone(room, id, log.overlays.get(id)?.author));
    return mergePage(live, dead, limit, live.length <= limit);
  }

  async close(): Promise<void> {
    this.rooms.clear();
    this.keys.clear();
  }
}
