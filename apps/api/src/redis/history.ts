import { SERVER_FRAME, compareMessageIds, messageIdTime, type ChatMessage } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type {
  AppendOnceResult,
  AppendOrigin,
  MessageDraft,
  ReadAfterResult,
  ReadBeforeResult,
  RoomHistory,
} from '../history/room-history.js';
import { roomGroup } from '../layer/channel-layer.js';
import { IDEMPOTENCY_TTL_MS } from '../rooms/idempotency.js';
import { groupChannel, idempotencyKey, roomStreamKey, roomTrimmedKey } from './keys.js';
import './scripts.js';

/** A stream entry as XRANGE returns it: the ID, then field names and values in turn. */
type StreamEntry = [id: string, fields: string[]];


/**
 * The chat frame split around what only Redis knows when the append runs: the ID, and the time
 * that is the ID's first half. The script joins `before + id + between + time + '}'`, which is
 * byte for byte `serializeFrame(message)` (same key order), so frames read the same on both backends.
 */
function frameAroundId(draft: MessageDraft): { before: string; between: string } {
  const body = JSON.stringify({ room: draft.room, user: draft.user, message: draft.message });
  return {
    before: `{"type":${JSON.stringify(SERVER_FRAME.chatMessage)},"id":"`,
    between: `",${body.slice(1, -1)},"ts":`,
  };
}

/** The message a draft became once the script stored it under `id`. */
const storedMessage = ({ room, user, message }: MessageDraft, id: string): ChatMessage => ({
  type: SERVER_FRAME.chatMessage,
  id,
  room,
  user,
  message,
  ts: messageIdTime(id),
});

/**
 * Each room's log is a Redis Stream trimmed to `limit`; the stream ID is the message ID (so it
 * is the same on every node and orders the room). The append script stores and publishes in one
 * step; reads are plain XRANGE / XREVRANGE.
 */
export class RedisRoomHistory implements RoomHistory {
  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  async append(draft: MessageDraft, origin: AppendOrigin = {}): Promise<ChatMessage> {
    const { before, between } = frameAroundId(draft);
    const id = await this.redis.roomcastAppend(
      roomStreamKey(draft.room),
      roomTrimmedKey(draft.room),
      this.limit,
      groupChannel(roomGroup(draft.room)),
      draft.message,
      draft.user ?? '',
      before,
      between,
      JSON.stringify(origin),
    );
    return storedMessage(draft, id);
  }

  /** `append` unless `key` was used, with the check and the record in the same script: one round trip. */
  async appendOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs = IDEMPOTENCY_TTL_MS): Promise<AppendOnceResult> {
    const { before, between } = frameAroundId(draft);
    const [stored, value] = await this.redis.roomcastAppendOnce(
      roomStreamKey(draft.room),
      roomTrimmedKey(draft.room),
      idempotencyKey(key),
      this.limit,
      groupChannel(roomGroup(draft.room)),
      draft.message,
      draft.user ?? '',
      before,
      between,
      JSON.stringify(origin),
      rememberMs,
    );
    if (stored === 1) return { state: 'stored', message: storedMessage(draft, value) };
    try {
      return value === '' ? { state: 'pending' } : { state: 'duplicate', message: JSON.parse(value) as ChatMessage };
    } catch {
      // Not ours to trust: treated as in progress, like the idempotency store does; it expires.
      return { state: 'pending' };
    }
  }

  async readAfter(room: string, afterId: string): Promise<ReadAfterResult> {
    // One transaction: the trimmed-through marker matches the entries read.
    const replies = await this.redis.multi().xrange(roomStreamKey(room), `(${afterId}`, '+').get(roomTrimmedKey(room)).exec();
    const [entries, trimmedThrough] = results(replies) as [StreamEntry[], string | null];
    const complete = trimmedThrough === null || compareMessageIds(afterId, trimmedThrough) >= 0;
    return { messages: this.toMessages(room, entries), complete };
  }

  async readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult> {
    const end = beforeId === undefined ? '+' : `(${beforeId}`;
    const entries = (await this.redis.xrevrange(roomStreamKey(room), end, '-', 'COUNT', limit + 1)) as StreamEntry[];
    const hasMore = entries.length > limit;
    return { messages: this.toMessages(room, entries.slice(0, limit).reverse()), hasMore };
  }

  async close(): Promise<void> {
    // The clients belong to the backend, which closes them.
  }

  /** Stream entries as chat messages; an entry that is not one of ours is logged and skipped. */
  private toMessages(room: string, entries: StreamEntry[]): ChatMessage[] {
    const messages: ChatMessage[] = [];
    for (const [id, fields] of entries) {
      let message: string | undefined;
      let user: string | null = null;
      for (let i = 0; i + 1 < fields.length; i += 2) {
        if (fields[i] === 'message') message = fields[i + 1];
        else if (fields[i] === 'user') user = fields[i + 1]!;
      }
      if (message === undefined) {
        this.log.warn({ room, id }, 'skipped a stream entry with no message field');
        continue;
      }
      messages.push({ type: SERVER_FRAME.chatMessage, id, room, user, message, ts: messageIdTime(id) });
    }
    return messages;
  }
}

/** The values of a MULTI's replies; the first failed command's error is thrown. */
function results(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (replies === null) throw new Error('Redis transaction was aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
