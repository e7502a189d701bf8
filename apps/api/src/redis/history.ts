import { SERVER_FRAME, compareMessageIds, type ChatMessage } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { NotStored, provesNothingWritten } from '../backend-errors.js';
import {
  authorOf,
  storedMessage,
  type AppendOnceResult,
  type AppendOrigin,
  type MessageDraft,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ReplayStart,
  type RoomHistory,
} from '../history/room-history.js';
import { EVERY_SENDER, FRAME_OVERHEAD_BYTES, type ReadMessage } from '../history/room-history.js';
import { roomGroup } from '../layer/channel-layer.js';
import { expiresWhenIdle } from '../rooms/idle-rooms.js';
import { idempotencyTtlMs } from '../rooms/idempotency.js';
import { groupChannel, idempotencyKey, roomStreamKey, roomTrimmedKey } from './keys.js';
import './scripts.js';

/** The smallest stream ID there is. */
const FIRST_MESSAGE_ID = '0-0';

/** A stream entry as XRANGE returns it: the ID, then field names and values in turn. */
type StreamEntry = [id: string, fields: string[]];

/**
 * The chat frame split around what only Redis knows when the append runs: the ID, and the time
 * that is the ID's first half. The script joins `before + id + between + time + '}'`, which is
 * byte for byte `serializeFrame(storedMessage(draft, id))` (same key order), so frames read the
 * same on both backends.
 */
function frameAroundId(draft: MessageDraft): { before: string; between: string } {
  const body = JSON.stringify({ room: draft.room, ...authorOf(draft), message: draft.message });
  return {
    before: `{"type":${JSON.stringify(SERVER_FRAME.chatMessage)},"id":"`,
    between: `",${body.slice(1, -1)},"ts":`,
  };
}

/** A failed script: refused (nothing written) or of unknown outcome; see backend-errors.ts. */
function outcomeError(error: unknown): unknown {
  return provesNothingWritten(error) ? new NotStored(error) : error;
}

/**
 * The stream entry's `user` field holds the author: a username, `guest:NAME` for a named guest,
 * `api:NAME` for a service (no username has a colon); absent for an anonymous guest.
 */
function streamAuthor({ user, guest, via }: MessageDraft): string {
  if (user !== null) return via === undefined ? user : `${via}:${user}`;
  return guest === undefined ? '' : `guest:${guest}`;
}

function parseStreamAuthor(field: string | undefined): Pick<MessageDraft, 'user' | 'guest' | 'via'> {
  if (field === undefined || field === '') return { user: null };
  if (field.startsWith('guest:')) return { user: null, guest: field.slice(6) };
  if (field.startsWith('api:')) return { user: field.slice(4), via: 'api' };
  return { user: field };
}

/**
 * Each room's log is a Redis Stream trimmed to `limit`; the stream ID is the message ID (so it
 * is the same on every node and orders the room). The append script stores and publishes in one
 * step, and gives the room's keys the idle TTL; reads are plain XRANGE / XREVRANGE on `reader`, a
 * connection of their own: a reply of hundreds of kilobytes on the command connection would make
 * every publish queued behind it wait (Redis answers one connection's commands in order), so a
 * replay could delay the room.
 */
export class RedisRoomHistory implements RoomHistory {
  private readonly keyTtlMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly limit: number,
    private readonly log: FastifyBaseLogger,
    private readonly idleTtlMs: number,
    private readonly reader: Redis = redis,
    /** Which rooms are claimed, and so kept however long they idle (the backend's room registry). */
    private readonly claimed?: { isClaimed(room: string): boolean },
  ) {
    this.keyTtlMs = idempotencyTtlMs(idleTtlMs);
  }

  /** ARGV 1-10 of the append scripts (see scripts.ts). */
  private appendArgs(draft: MessageDraft, origin: AppendOrigin): Array<string | number> {
    const { before, between } = frameAroundId(draft);
    return [
      this.limit,
      groupChannel(roomGroup(draft.room)),
      draft.message,
      streamAuthor(draft),
      before,
      between,
      origin.sender ?? '',
      origin.nonce ?? '',
      origin.scope ?? '',
      expiresWhenIdle(draft.room, this.claimed) ? this.idleTtlMs : 0,
    ];
  }

  async append(draft: MessageDraft, origin: AppendOrigin = {}): Promise<ChatMessage> {
    const args = this.appendArgs(draft, origin);
    const id = await this.redis.roomcastAppend(roomStreamKey(draft.room), roomTrimmedKey(draft.room), ...args).catch((error: unknown) => {
      throw outcomeError(error);
    });
    return storedMessage(draft, id);
  }

  /** `append` unless `key` was used, with the check and the record in the same script: one round trip. */
  async appendOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs?: number): Promise<AppendOnceResult> {
    const args = this.appendArgs(draft, origin);
    const [stored, id, fields] = await this.redis
      .roomcastAppendOnce(roomStreamKey(draft.room), roomTrimmedKey(draft.room), idempotencyKey(key), ...args, Math.min(rememberMs ?? this.keyTtlMs, this.keyTtlMs))
      .catch((error: unknown) => {
        throw outcomeError(error);
      });
    if (stored === 1) return { state: 'stored', message: storedMessage(draft, id) };
    // The first message as stored, or (trimmed since) the same sender's same send under its ID.
    const first = fields && fields.length > 0 ? this.toMessage(draft.room, [id, fields]) : undefined;
    return { state: 'duplicate', message: first ?? storedMessage(draft, id) };
  }

  async readAfter(room: string, afterId: string, limit?: number, scope?: string): Promise<ReadAfterResult> {
    const stream = roomStreamKey(room);
    const range = this.reader.multi();
    if (limit === undefined) range.xrange(stream, `(${afterId}`, '+');
    else range.xrange(stream, `(${afterId}`, '+', 'COUNT', limit);
    // One transaction: the trimmed-through marker matches the entries read.
    const replies = await range.get(roomTrimmedKey(room)).exec();
    const [entries, trimmedThrough] = results(replies) as [StreamEntry[], string | null];
    const complete = trimmedThrough === null || compareMessageIds(afterId, trimmedThrough) >= 0;
    return { messages: this.toMessages(room, entries, scope), complete };
  }

  async replayStart(room: string, sinceId: string, maxBytes: number): Promise<ReplayStart> {
    const overhead = FRAME_OVERHEAD_BYTES + Buffer.byteLength(room);
    const [after, cut] = await this.reader.roomcastReplayStart(roomStreamKey(room), sinceId, maxBytes, overhead);
    return { after, cut: cut === 1 };
  }

  async readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult> {
    // Nothing comes before the first possible ID, and Redis refuses the range `(0-0` outright.
    if (beforeId !== undefined && compareMessageIds(beforeId, FIRST_MESSAGE_ID) <= 0) return { messages: [], hasMore: false };
    const end = beforeId === undefined ? '+' : `(${beforeId}`;
    const entries = (await this.reader.xrevrange(roomStreamKey(room), end, '-', 'COUNT', limit + 1)) as StreamEntry[];
    const hasMore = entries.length > limit;
    return { messages: this.toMessages(room, entries.slice(0, limit).reverse()), hasMore };
  }

  /** Restarts the idle TTL of the rooms' keys, in one round trip. */
  async touch(rooms: readonly string[]): Promise<void> {
    if (rooms.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const room of rooms) {
      // A claimed room's keys lose any expiry a node that did not know yet had given them.
      if (expiresWhenIdle(room, this.claimed)) pipeline.pexpire(roomStreamKey(room), this.idleTtlMs).pexpire(roomTrimmedKey(room), this.idleTtlMs);
      else pipeline.persist(roomStreamKey(room)).persist(roomTrimmedKey(room));
    }
    results(await pipeline.exec());
  }

  /** Nothing to sweep: the room's keys carry their own expiry. */
  async forgetIdle(): Promise<number> {
    return 0;
  }

  async close(): Promise<void> {
    // The clients belong to the backend, which closes them.
  }

  /** Stream entries as chat messages; an entry that is not one of ours is logged and skipped. */
  private toMessages(room: string, entries: StreamEntry[], scope?: string): ReadMessage[] {
    const messages: ReadMessage[] = [];
    for (const entry of entries) {
      const message = this.toMessage(room, entry, scope);
      if (message) messages.push(message);
    }
    return messages;
  }

  /** One stream entry as a chat message, carrying its nonce when sent under `scope`. */
  private toMessage(room: string, [id, fields]: StreamEntry, scope?: string): ReadMessage | undefined {
    let message: string | undefined;
    let author: string | undefined;
    let nonce: string | undefined;
    let sentUnder: string | undefined;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1]!;
      if (fields[i] === 'message') message = value;
      else if (fields[i] === 'user') author = value;
      else if (fields[i] === 'nonce') nonce = value;
      else if (fields[i] === 'scope') sentUnder = value;
    }
    if (message === undefined) {
      this.log.warn({ room, id }, 'skipped a stream entry with no message field');
      return undefined;
    }
    const stored = storedMessage({ room, ...parseStreamAuthor(author), message }, id);
    if (scope === undefined || nonce === undefined || sentUnder === undefined) return stored;
    if (scope === EVERY_SENDER) return { ...stored, nonce, nonceScope: sentUnder };
    return sentUnder === scope ? { ...stored, nonce } : stored;
  }
}

/** The values of a MULTI's or pipeline's replies; the first failed command's error is thrown. */
function results(replies: Array<[Error | null, unknown]> | null): unknown[] {
  if (replies === null) throw new Error('Redis transaction was aborted');
  return replies.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}
