import { SERVER_FRAME, compareMessageIds, type ChatMessage, type MessageState } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { ChainableCommander } from 'ioredis';
import type { RedisClient } from './client.js';
import { NotStored, provesNothingWritten } from '../backend-errors.js';
import {
  storedMessage,
  type AppendOnceResult,
  type AppendOrigin,
  type MessageDraft,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ReplayStart,
  type RoomHistory,
  type ChangeResult,
} from '../history/room-history.js';
import {
  ChangeRefused,
  mergePage,
  messageState,
  storedChange,
  tombstone,
  type ChangeDraft,
  type MessageOverlay,
} from '../history/room-events.js';
import { FRAME_OVERHEAD_BYTES, type ReadMessage } from '../history/room-history.js';
import { roomGroup } from '../layer/channel-layer.js';
import { expiresWhenIdle, touchSkipMs } from '../rooms/idle-rooms.js';
import { idempotencyTtlMs } from '../rooms/idempotency.js';
import { TurnBatch } from '../turn-batch.js';
import { groupChannel, idempotencyKey, roomDeletedKey, roomReadersKey, roomStateKey, roomStreamKey, roomTrimmedKey } from './keys.js';
import { entryFrame, frameAroundId, messageIdMs, parseOverlay, streamAuthor, type StreamEntry } from './stream-entries.js';
import './scripts.js';

/**
 * Every key of a room that idles away with it (its log, its state, and its readers, who a mention
 * may name); a claimed room's lose their expiry (see RedisRoomRegistry.claim).
 */
export const idleRoomKeys = (room: string): string[] => [
  roomStreamKey(room),
  roomTrimmedKey(room),
  roomStateKey(room),
  roomDeletedKey(room),
  roomReadersKey(room),
];

/** Entries a history page reads at a time, at least (changes between messages are skipped). */
const READ_BATCH = 100;

/**
 * How long a publish waits for its replicas (REDIS_WAIT_REPLICAS), under the command timeout so
 * that a shortfall is an answer from Redis, not a timeout.
 */
const WAIT_TIMEOUT_MS = 1000;

/** The smallest stream ID there is. */
const FIRST_MESSAGE_ID = '0-0';


/** A failed script: refused by the log's checks, refused (nothing written), or of unknown outcome; see backend-errors.ts. */
function outcomeError(error: unknown): unknown {
  const refused = error instanceof Error ? /roomcast change refused: (not_found|forbidden)/.exec(error.message) : null;
  if (refused) return new ChangeRefused(refused[1] as 'not_found' | 'forbidden');
  return provesNothingWritten(error) ? new NotStored(error) : error;
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
  private readonly touches = new TurnBatch<void, void>((room) => this.touchNow(room));
  /** When this node last restarted each room's idle clock (Date.now); see touchSkipMs. */
  private readonly touchedAt = new Map<string, number>();
  private readonly touchSkipMs: number;
  private touchedPrunedAt = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly limit: number,
    private readonly log: FastifyBaseLogger,
    private readonly idleTtlMs: number,
    private readonly reader: RedisClient = redis,
    /** REDIS_WAIT_REPLICAS: a publish answers once this many replicas hold it. */
    private readonly waitReplicas = 0,
    /** Which rooms are claimed, and so kept however long they idle (the backend's room registry). */
    private readonly claimed?: { isClaimed(room: string): boolean },
  ) {
    this.keyTtlMs = idempotencyTtlMs(idleTtlMs);
    this.touchSkipMs = touchSkipMs(idleTtlMs);
  }

  /** KEYS 1-4 of the append scripts (see scripts.ts). */
  /** The room's log keys, in the order the scripts take them. */
  private keys(room: string): [string, string, string, string] {
    return [roomStreamKey(room), roomTrimmedKey(room), roomStateKey(room), roomDeletedKey(room)];
  }

  /** ARGV 1-18 of the append scripts (see scripts.ts). */
  private appendArgs(draft: MessageDraft | ChangeDraft, origin: AppendOrigin): Array<string | number> {
    const { type, before, between, after } = frameAroundId(draft);
    const change = 'kind' in draft ? draft : undefined;
    const message = !('kind' in draft) || draft.kind === 'edit' ? draft.message : '';
    const mentions = !('kind' in draft) || draft.kind === 'edit' ? draft.mentions : undefined;
    return [
      this.limit,
      groupChannel(roomGroup(draft.room)),
      message,
      streamAuthor(draft),
      before,
      between,
      origin.sender ?? '',
      origin.nonce ?? '',
      origin.scope ?? '',
      expiresWhenIdle(draft.room, this.claimed) ? this.idleTtlMs : 0,
      change?.kind ?? '',
      change?.target ?? (draft as MessageDraft).replyTo ?? '',
      change?.kind === 'reaction' ? change.emoji : '',
      change?.kind === 'reaction' && change.on !== undefined ? (change.on ? '1' : '0') : '',
      (mentions ?? []).join(','),
      after,
      change !== undefined && change.kind !== 'reaction' ? change.right : 'none',
      type,
    ];
  }

  async append(draft: MessageDraft, origin: AppendOrigin = {}): Promise<ChatMessage> {
    const args = this.appendArgs(draft, origin);
    const [id] = await this.durably((client) => client.roomcastAppend(...this.keys(draft.room), ...args));
    return storedMessage(draft, id);
  }

  /** `append` unless `key` was used, with the check and the record in the same script: one round trip. */
  async appendOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs?: number): Promise<AppendOnceResult> {
    const reply = await this.once(draft, origin, key, rememberMs);
    if (reply[0] === 1) return { state: 'stored', message: storedMessage(draft, reply[1]) };
    // The first message as stored, or (trimmed since) the same sender's same send under its ID.
    const [, id, fields] = reply;
    const first = fields.length > 0 ? this.toMessage(draft.room, [id, fields]) : undefined;
    return { state: 'duplicate', message: first?.type === SERVER_FRAME.chatMessage ? first : storedMessage(draft, id) };
  }

  async change(draft: ChangeDraft, origin: AppendOrigin = {}, key?: string): Promise<ChangeResult> {
    if (key === undefined) {
      const args = this.appendArgs(draft, origin);
      const [id, on] = await this.durably((client) => client.roomcastAppend(...this.keys(draft.room), ...args));
      return { state: 'stored', event: storedChange(draft, id, on === 1) };
    }
    const reply = await this.once(draft, origin, key);
    if (reply[0] === 1) return { state: 'stored', event: storedChange(draft, reply[1], reply[2] === 1) };
    const [, id, fields] = reply;
    const first = fields.length > 0 ? this.toMessage(draft.room, [id, fields]) : undefined;
    const fallback = storedChange(draft, id, draft.kind === 'reaction' ? draft.on : undefined);
    return { state: 'duplicate', event: first !== undefined && first.type !== SERVER_FRAME.chatMessage ? first : fallback };
  }

  private once(draft: MessageDraft | ChangeDraft, origin: AppendOrigin, key: string, rememberMs?: number) {
    const ttl = Math.min(rememberMs ?? this.keyTtlMs, this.keyTtlMs);
    const keys = [...this.keys(draft.room), idempotencyKey(draft.room, key)] as const;
    const args = [...this.appendArgs(draft, origin), ttl];
    return this.durably((client) => client.roomcastAppendOnce(...keys, ...args));
  }

  /** The newest message ID of the room (the layer's check of its subscriptions), on the reads connection. */
  async newestId(room: string): Promise<string | undefined> {
    const [newest] = (await this.reader.xrevrange(roomStreamKey(room), '+', '-', 'COUNT', 1)) as StreamEntry[];
    return newest?.[0];
  }

  /**
   * Runs an append script; with REDIS_WAIT_REPLICAS, in one pipeline with `WAIT` (one round
   * trip, on the connection to the room's master: WAIT counts the replicas holding that
   * connection's writes). Fewer replicas than asked within the timeout is no refusal: the
   * message is stored on the master, and a failover may lose it, so the answer is an error of
   * unknown outcome (`unconfirmed`: resend with the same nonce), never `unavailable`.
   */
  private async durably<T>(script: (client: RedisClient | ChainableCommander) => Promise<T> | ChainableCommander): Promise<T> {
    if (this.waitReplicas === 0) {
      return (script(this.redis) as Promise<T>).catch((error: unknown) => {
        throw outcomeError(error);
      });
    }
    const pipeline = this.redis.pipeline();
    script(pipeline);
    const replies = await pipeline.wait(this.waitReplicas, WAIT_TIMEOUT_MS).exec();
    if (replies === null) throw new Error('Redis pipeline was aborted');
    const [[appendError, stored], [waitError, replicas]] = replies as [[Error | null, T], [Error | null, number]];
    if (appendError) throw outcomeError(appendError);
    if (waitError) throw waitError;
    if (replicas < this.waitReplicas) {
      throw new Error(`stored on the master, but ${replicas} of ${this.waitReplicas} replicas acknowledged it within ${WAIT_TIMEOUT_MS} ms`);
    }
    return stored;
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

  /**
   * The newest `limit` messages before `beforeId` in their current state: stream entries newest
   * first until `limit + 1` messages (changes are skipped), their overlays from the state hash,
   * and the tombstones of deleted messages in the same stretch from the deleted set.
   */
  async readBefore(room: string, beforeId: string | undefined, limit: number): Promise<ReadBeforeResult> {
    // Nothing comes before the first possible ID, and Redis refuses the range `(0-0` outright.
    if (beforeId !== undefined && compareMessageIds(beforeId, FIRST_MESSAGE_ID) <= 0) return { messages: [], hasMore: false };
    const live: ChatMessage[] = [];
    let upper = beforeId === undefined ? '+' : `(${beforeId}`;
    let exhausted = false;
    // Reads in batches of at least READ_BATCH entries: a stretch of many reactions between two
    // messages costs a few round trips, not one per entry.
    const count = Math.max(limit + 1, READ_BATCH);
    while (live.length <= limit) {
      const entries = (await this.reader.xrevrange(roomStreamKey(room), upper, '-', 'COUNT', count)) as StreamEntry[];
      for (const message of this.toMessages(room, entries)) if (message.type === SERVER_FRAME.chatMessage) live.push(message);
      if (entries.length < count) {
        exhausted = true;
        break;
      }
      upper = `(${entries.at(-1)![0]}`;
    }
    if (live.length > limit + 1) {
      live.length = limit + 1;
      exhausted = false;
    }
    const floor = exhausted ? undefined : live.at(-1)?.id;
    const dead = (
      await this.reader.zrevrangebyscore(
        roomDeletedKey(room),
        beforeId === undefined ? '+inf' : messageIdMs(beforeId),
        floor === undefined ? '-inf' : messageIdMs(floor),
      )
    ).filter((id) => beforeId === undefined || compareMessageIds(id, beforeId) < 0);
    const ids = [...live.map((message) => message.id), ...dead];
    const overlays = ids.length === 0 ? [] : await this.reader.hmget(roomStateKey(room), ...ids);
    const overlay = (index: number): MessageOverlay | undefined => parseOverlay(overlays[index] ?? null);
    const states: MessageState[] = live.map((message, index) => messageState(message, overlay(index)));
    const tombstones = dead
      .map((id, index) => tombstone(room, id, overlay(live.length + index)?.author))
      .sort((a, b) => compareMessageIds(b.id, a.id));
    return mergePage(states, tombstones, limit, exhausted);
  }

  /** Restarts the idle TTL of the rooms' keys, in one round trip per room (pipelined). */
  touch(rooms: readonly string[]): Promise<void> {
    // Every socket that joins or leaves touches its room: a room touched by this node a moment
    // ago is skipped, and the sockets of a room closing in one turn (a shutdown) touch it once.
    const now = Date.now();
    this.pruneTouched(now);
    const due = rooms.filter((room) => now - (this.touchedAt.get(room) ?? -Infinity) >= this.touchSkipMs);
    for (const room of due) this.touchedAt.set(room, now);
    return Promise.all(
      due.map((room) =>
        this.touches.add(room, undefined).catch((error: unknown) => {
          this.touchedAt.delete(room);
          throw error;
        }),
      ),
    ).then(() => undefined);
  }

  /** Forgets, once a skip period, the rooms whose skip period is over. */
  private pruneTouched(now: number): void {
    if (now - this.touchedPrunedAt < this.touchSkipMs) return;
    this.touchedPrunedAt = now;
    for (const [room, at] of this.touchedAt) if (now - at >= this.touchSkipMs) this.touchedAt.delete(room);
  }

  private async touchNow(room: string): Promise<void> {
    // One pipeline per room: a room's keys share a slot, different rooms' may not (a cluster).
    // A claimed room's keys lose any expiry a node that did not know yet had given them.
    const expires = expiresWhenIdle(room, this.claimed);
    const pipeline = this.redis.pipeline();
    for (const key of idleRoomKeys(room)) {
      if (expires) pipeline.pexpire(key, this.idleTtlMs);
      else pipeline.persist(key);
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

  /** One stream entry as a chat message or a change, carrying its nonce when sent under `scope`. */
  private toMessage(room: string, entry: StreamEntry, scope?: string): ReadMessage | undefined {
    const read = entryFrame(room, entry, scope);
    if (typeof read === 'string') return this.skip(room, entry[0], read);
    return read;
  }

  private skip(room: string, id: string, what: string): undefined {
    this.log.warn({ room, id }, `skipped ${what}`);
    return undefined;
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
