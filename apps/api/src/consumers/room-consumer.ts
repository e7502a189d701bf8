import {
  CLOSE,
  SERVER_FRAME,
  compareMessageIds,
  errorFrame,
  serializeFrame,
  withNonce,
  parseClientFrame,
  type ErrorCode,
} from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import type { Backend } from '../backend.js';
import { isBackendError } from '../backend-errors.js';
import type { Config } from '../config.js';
import { roomGroup, type Channel, type GroupEvent } from '../layer/channel-layer.js';
import type { MessageBudgets } from '../limits/message-budgets.js';
import { TokenBucket } from '../limits/token-bucket.js';
import { presenceEvent, presenceName } from '../presence/presence.js';
import type { Metrics } from '../metrics.js';
import { nonceScope, type Publisher } from '../rooms/publisher.js';
import type { Actor } from '../rooms/access.js';
import type { RoomStanding } from '../registry/room-registry.js';
import type { Replays } from './replay.js';
import { SocketSends } from './socket-sends.js';
import { directStream, sharedTextFrame } from './wire.js';

export interface ConsumerContext {
  room: string;
  /** Username of the socket (account, token or hook user), or null for a guest. */
  user: string | null;
  /** The client's address (`clientKey`): the per-address message budget and replay budget. */
  ip: string;
  /** Message budgets per IP and per user, shared by every socket of this node. */
  budgets: MessageBudgets;
  /** `?client=`: the ID an anonymous client keeps across reconnects, so its nonces outlive a socket. */
  clientId?: string | undefined;
  /** A guest's chosen name. */
  guest: string | undefined;
  /** Resume point: send every message after this ID before live ones. */
  since: string | undefined;
  /** The node's replays of history (paced resumes, shared catch-ups). */
  replays: Replays;
  backend: Backend;
  publisher: Publisher;
  config: Config;
  metrics: Metrics;
  /** The app's logger; the consumer makes its own child, with `reqId`, when it first logs. */
  log: FastifyBaseLogger;
  /** ID of the upgrade request, bound to the socket's log lines. */
  requestId?: string;
  /** The room's standing for this socket's person at the upgrade (claimed rooms: slow mode, role). */
  standing?: RoomStanding;
}

const PONG = serializeFrame({ type: SERVER_FRAME.pong });

/** Frames a socket may send while it is still joining; more than this is refused. */
const MAX_EARLY_FRAMES = 64;
/** A socket's typing notices go out at most this often. */
const TYPING_INTERVAL_MS = 1000;
/**
 * A socket that has received no message yet resyncs from its join time less this, on the node's
 * clock: message IDs are on Redis's clock, and a little skew must not lose a message.
 */
const RESYNC_CLOCK_ALLOWANCE_MS = 5000;
/** Waits between tries of a catch-up read that failed (about 3 s in all). */
const RESYNC_RETRY_DELAYS_MS = [200, 400, 800, 1600];
/**
 * Live events a socket may have held back while history is replayed to it. They are references
 * to events shared by the room, but a replay that never ends must not collect them forever:
 * past this the socket is closed 1013 and resumes later.
 */
const MAX_HELD_EVENTS = 10_000;

/**
 * One connected socket in one room, in Django Channels' shape: `connect` joins the room's group
 * (and resumes from `since`), `receive` handles each frame, `disconnect` leaves. It is also the
 * socket's channel: the layer hands it group events through `deliver`.
 */
export class RoomConsumer implements Channel {
  readonly name: string;
  private logger: FastifyBaseLogger | undefined;
  private readonly group: string;
  private readonly bucket: TokenBucket | undefined;
  /** Whose nonces this socket's sends are (see AppendOrigin.scope). */
  private readonly scope: string;
  /** Where shared fan-out frames are written (undefined: through `socket.send`). */
  private readonly stream: Duplex | undefined;
  private phase: 'connecting' | 'open' | 'closed' = 'connecting';
  private connecting: Promise<void> = Promise.resolve();
  private disconnecting: Promise<void> | undefined;
  /** Frames received before `connect` finished; handled in order once it has. */
  private early: string[] = [];
  /** Live events held back while the resume gap is sent. */
  private held: GroupEvent[] | undefined;
  /** Newest message ID sent by the resume; live copies up to it are duplicates. */
  private resumedThrough: string | undefined;
  /** Newest message ID sent to the socket: where a resync catches up from. */
  private lastSentId: string | undefined;
  /** A resync asked for while a catch-up was running; done once it ends. */
  private resyncPending = false;
  private readonly joinedAt = Date.now();
  /**
   * Whether the client gets every frame (it offered `roomcast.v1`). The route decides by choosing
   * the class: a ChatOnlyConsumer gets no `recovered` frames and a `message` on error frames.
   */
  protected readonly full: boolean = true;
  private lastTypingAt = 0;
  private standing: RoomStanding;
  /** Publishes what the socket sends: messages, and changes to messages. */
  private readonly sends: SocketSends;

  constructor(
    private readonly socket: WebSocket,
    private readonly ctx: ConsumerContext,
  ) {
    this.name = ctx.backend.layer.newChannelName();
    this.group = roomGroup(ctx.room);
    const rate = ctx.config.socketRate;
    this.bucket = rate > 0 ? new TokenBucket(rate, rate * 2) : undefined;
    this.scope = nonceScope(ctx.user, ctx.clientId, this.name);
    this.stream = directStream(socket);
    this.standing = ctx.standing ?? { claimed: false };
    this.sends = new SocketSends(ctx, this.name, this.scope, {
      sendText: (text) => this.sendText(text),
      refuse: (code, reason, nonce, retryAfterMs) => this.refuse(code, reason, nonce, retryAfterMs),
      log: () => this.log,
      standing: () => this.standing,
      actor: () => this.actor,
    });
  }

  get room(): string {
    return this.ctx.room;
  }

  /** Who this socket is, for room access (members, bans, slow mode). */
  get actor(): Actor {
    return { user: this.ctx.user, guest: this.ctx.guest };
  }

  /** The room changed (settings, roles; see RoomControl): later posts follow its new standing. */
  setStanding(standing: RoomStanding): void {
    this.standing = standing;
  }

  /**
   * Every line this socket logs carries its connection ID (`conn`) and room. Made on first use:
   * most sockets never log, and a child logger per idle socket is memory thousands of them pay.
   */
  private get log(): FastifyBaseLogger {
    const { requestId, room } = this.ctx;
    this.logger ??= this.ctx.log.child(requestId === undefined ? { conn: this.name, room } : { reqId: requestId, conn: this.name, room });
    return this.logger;
  }

  /**
   * Attaches the socket's listeners before anything asynchronous happens (frames sent right
   * after the upgrade would otherwise be lost), then joins the room.
   */
  start(): void {
    this.ctx.metrics.openSockets += 1;
    this.socket.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    this.socket.on('close', () => void this.disconnect());
    this.socket.on('error', (error) => this.log.debug({ err: error }, 'socket error'));
    this.connecting = this.connect();
  }

  private async connect(): Promise<void> {
    const { backend, room, user, guest, since } = this.ctx;
    try {
      if (since !== undefined) this.held = [];
      await backend.layer.groupAdd(this.group, this);
      await backend.presence.join(room, this.name, presenceName(user, guest));
      this.touchRoom();
      if (since !== undefined) await this.resume(since);
      if (this.phase === 'closed' || !(await this.greet())) return;
      this.phase = 'open';
      const early = this.early;
      this.early = [];
      for (const text of early) this.receive(text);
    } catch (error) {
      // Redis away or out of memory: say so (an `unavailable` frame), then 1011 (reconnect later).
      if (isBackendError(error)) {
        this.log.warn({ err: error }, 'socket could not join its room: backend unavailable');
        this.refuse('unavailable', 'The backend is unavailable; reconnect in a moment.');
        this.close(CLOSE.serverError, 'backend unavailable');
        return;
      }
      this.log.error({ err: error }, 'socket could not join its room');
      this.close(CLOSE.serverError, 'server error');
    }
  }

  /**
   * Tells the socket who is in the room as soon as it is in (after its resume, if any): the
   * room's coalesced frame would reach it up to PRESENCE_INTERVAL_MS later, and sockets joining a
   * room together would all wait for it. Only this socket gets it; the others get the join in the
   * room's next coalesced frame. A backend that cannot answer just leaves it to that frame.
   * False when the socket closed meanwhile.
   */
  private async greet(): Promise<boolean> {
    const { backend, room } = this.ctx;
    if (!this.full) return true;
    const presence = await backend.presence.snapshot(room).catch((error: unknown) => {
      this.log.debug({ err: error }, 'presence snapshot not read; the room\'s next frame will say it');
      return undefined;
    });
    if (presence) this.sendText(presenceEvent(room, presence).frame);
    // Closed while reading: the socket is gone and must not be marked open.
    return this.phase !== 'closed';
  }

  /**
   * Sends what the socket missed, paced by the client's acknowledgements (see Replays), then the
   * live events that came meanwhile, with no duplicate. A client that does not keep up is closed
   * 1013 and resumes later from what it has.
   */
  private async resume(since: string): Promise<void> {
    const { replays, room, ip } = this.ctx;
    const wants = this.full ? undefined : (type: string) => this.wants(type);
    const outcome = await replays.paced(room, since, ip, this.socket, (text) => this.sendText(text), this.scope, wants);
    if (outcome.state === 'closed') return;
    if (outcome.state === 'too-slow') {
      this.tooSlow('resume not acknowledged in time');
      return;
    }
    this.resumedThrough = outcome.lastId ?? since;
    this.lastSentId = this.resumedThrough;
    if (this.full) this.sendText(serializeFrame({ type: SERVER_FRAME.recovered, complete: outcome.complete }));
    this.release();
  }

  /**
   * Called by the layer after it may have lost events (its Redis connection dropped): catches up
   * from history after the last message sent, holding live events meanwhile, as a resume does.
   */
  resync(): void {
    if (this.phase === 'closed') return;
    if (this.held) {
      this.resyncPending = true;
      return;
    }
    this.held = [];
    const since = this.lastSentId ?? `${Math.max(0, this.joinedAt - RESYNC_CLOCK_ALLOWANCE_MS)}-0`;
    this.catchUpRetrying(since).then(
      (complete) => {
        if (!complete && this.full) this.sendText(serializeFrame({ type: SERVER_FRAME.recovered, complete }));
        this.release();
      },
      (error: unknown) => {
        this.log.warn({ err: error }, 'could not catch up after a gap; closing so the client resumes');
        this.close(CLOSE.serverError, 'server error: reconnect with since');
      },
    );
  }

  /**
   * A backend that just came back may still refuse reads for a moment (Redis answers LOADING
   * while it replays its append-only file): retry before making the client reconnect.
   */
  private async catchUpRetrying(since: string): Promise<boolean> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.catchUp(since);
      } catch (error) {
        if (attempt >= RESYNC_RETRY_DELAYS_MS.length || this.phase === 'closed') throw error;
        await new Promise((resolve) => setTimeout(resolve, RESYNC_RETRY_DELAYS_MS[attempt]));
      }
    }
  }

  /**
   * Sends every kept message after `since` (one read and one frame per message shared by the
   * room's sockets catching up together); live copies up to the last one sent are then dropped.
   */
  private async catchUp(since: string): Promise<boolean> {
    // One read shared by the room's sockets; the sender's own messages come with their nonce, so
    // a send whose confirmation was lost in the gap is confirmed now.
    const { frames, complete } = await this.ctx.replays.sharedCatchUp(this.ctx.room, since);
    for (const frame of frames) {
      if (!this.wants(frame.type)) continue;
      if (frame.sender?.scope === this.scope) this.sendText(withNonce(frame.frame, frame.sender.nonce));
      else this.sendShared(frame);
    }
    this.resumedThrough = frames.at(-1)?.id ?? since;
    this.lastSentId = this.resumedThrough;
    return complete;
  }

  /** Delivers the live events held during a catch-up, then a resync asked for meanwhile. */
  private release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const event of held) this.deliver(event);
    if (this.resyncPending) {
      this.resyncPending = false;
      this.resync();
    }
  }

  /** Called by the channel layer for every event of the room's group. */
  deliver(event: GroupEvent): void {
    if (this.held) {
      if (this.held.length < MAX_HELD_EVENTS) this.held.push(event);
      else this.tooSlow('too many live events held during a replay');
      return;
    }
    if (event.sender === this.name && event.skipSender) return;
    const isChat = event.type === SERVER_FRAME.chatMessage;
    // Messages and changes to them share the log's one sequence: both are deduplicated by ID.
    if (this.resumedThrough !== undefined && event.id !== undefined) {
      if (compareMessageIds(event.id, this.resumedThrough) <= 0) return;
      // Events arrive in log order: once past the resume point, no later one can be a duplicate.
      this.resumedThrough = undefined;
    }
    if (event.id !== undefined) this.lastSentId = event.id;
    // Only the sender's own copy differs (it carries the nonce); every other copy is one shared buffer.
    const sent =
      event.nonce !== undefined && event.sender === this.name ? this.sendText(withNonce(event.frame, event.nonce)) : this.sendShared(event);
    if (sent && isChat) this.ctx.metrics.messagesOut += 1;
  }

  private onFrame(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.refuse('invalid_frame', 'Send JSON in text frames, not binary ones.');
      return;
    }
    const text = data.toString();
    if (this.phase === 'open') this.receive(text);
    else if (this.phase === 'connecting') {
      if (this.early.length < MAX_EARLY_FRAMES) this.early.push(text);
      else this.refuse('rate_limited', 'Too many frames before the room was joined.');
    }
  }

  /** Handles one text frame. Never throws: every refusal is an error frame, the socket stays open. */
  receive(text: string): void {
    const parsed = parseClientFrame(text);
    const nonce = parsed.ok ? ('nonce' in parsed.value ? parsed.value.nonce : undefined) : parsed.nonce;
    const decision = this.bucket?.take();
    if (decision && !decision.allowed) {
      this.refuse('rate_limited', `At most ${this.ctx.config.socketRate} messages a second; slow down.`, nonce, decision.retryAfterMs);
      return;
    }
    if (!parsed.ok) {
      this.refuse(parsed.code, parsed.reason, parsed.nonce);
      return;
    }
    const frame = parsed.value;
    if (frame.kind === 'typing') {
      this.typing();
      return;
    }
    if (frame.kind === 'ping') {
      this.sendText(PONG);
      return;
    }
    // Edits, deletions and reactions spend the same budgets as messages.
    const overBudget = this.ctx.budgets.take(this.ctx.ip, this.ctx.user);
    if (overBudget) {
      this.refuse('rate_limited', overBudget.reason, nonce, overBudget.retryAfterMs);
      return;
    }
    if (frame.kind === 'chat') this.sends.post(frame.message, frame.nonce, frame.replyTo);
    else this.sends.change(frame);
  }

  private typing(): void {
    const now = Date.now();
    if (now - this.lastTypingAt < TYPING_INTERVAL_MS) return;
    this.lastTypingAt = now;
    const { user, guest } = this.ctx;
    const frame = serializeFrame(guest === undefined ? { type: SERVER_FRAME.typing, user } : { type: SERVER_FRAME.typing, user, guest });
    this.ctx.backend.layer
      .groupSend(this.group, { type: SERVER_FRAME.typing, frame, sender: this.name, skipSender: true })
      .catch((error: unknown) => this.log.debug({ err: error }, 'typing notice not sent'));
  }

  /** Whether the socket gets frames of this type: every type, or chat messages only (ChatOnlyConsumer). */
  protected wants(type: string): boolean {
    return this.full || type === SERVER_FRAME.chatMessage;
  }

  private refuse(code: ErrorCode, reason: string, nonce?: string, retryAfterMs?: number): void {
    this.ctx.metrics.refused(code);
    const extra = { ...(nonce === undefined ? {} : { nonce }), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
    const frame = errorFrame(code, reason, extra);
    this.sendText(serializeFrame(this.full ? frame : { ...frame, message: reason }));
  }

  /** Sends a frame made for this socket alone, unless it is gone or too slow. */
  private sendText(text: string): boolean {
    if (!this.writable()) return false;
    this.socket.send(text);
    return true;
  }

  /** Sends a group event's (or a shared replay's) frame as the bytes shared by every recipient, made once. */
  private sendShared(event: { frame: string }): boolean {
    if (!this.writable()) return false;
    if (this.stream) this.stream.write(sharedTextFrame(event));
    else this.socket.send(event.frame);
    return true;
  }

  /**
   * False when the socket is gone. A socket whose unsent bytes pass the high-water mark is
   * closed with 1013: it resumes from history when it comes back, so it loses nothing and cannot
   * make the server hold an unbounded queue for it.
   */
  private writable(): boolean {
    const socket = this.socket;
    if (socket.readyState !== socket.OPEN) return false;
    if (socket.bufferedAmount > this.ctx.config.slowConsumerBytes) {
      this.tooSlow('unsent bytes over SLOW_CONSUMER_BYTES');
      return false;
    }
    return true;
  }

  /** Closes the socket with 1013: it resumes from history when it comes back, and loses nothing. */
  private tooSlow(why: string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.ctx.metrics.slowConsumerCloses += 1;
    this.log.info({ buffered: this.socket.bufferedAmount, why }, 'closing slow consumer');
    this.close(CLOSE.tooSlow, 'too slow: reconnect with since');
  }

  /** Closes the socket with a code and lets the close handler leave the room. */
  close(code: number, reason: string): void {
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code, reason);
    }
  }

  /** Leaves the group and presence once; resolves when done (shutdown waits for it). */
  disconnect(): Promise<void> {
    this.disconnecting ??= this.leave();
    return this.disconnecting;
  }

  /** The room's idle time starts again: when a socket joins, and when it leaves. */
  private touchRoom(): void {
    this.ctx.backend.history.touch([this.ctx.room]).catch((error: unknown) => this.log.debug({ err: error }, 'room idle clock not restarted'));
  }

  private async leave(): Promise<void> {
    this.phase = 'closed';
    this.ctx.metrics.openSockets -= 1;
    await this.connecting;
    this.touchRoom();
    const { backend, room } = this.ctx;
    await Promise.allSettled([backend.layer.groupDiscard(this.group, this), backend.presence.leave(room, this.name)]).then(
      (results) => {
        for (const result of results) {
          if (result.status === 'rejected') this.log.warn({ err: result.reason }, 'leave failed');
        }
      },
    );
  }
}

/**
 * The socket of a client that did not offer `roomcast.v1`, such as the Django tutorial's page,
 * which appends `data.message` for every frame: it gets chat messages only (and error frames that
 * carry a `message`). Decided per event type, not per copy, so the shared frame bytes stay shared;
 * a subclass keeps the check off the path of every other socket.
 */
export class ChatOnlyConsumer extends RoomConsumer {
  protected override readonly full = false;

  override deliver(event: GroupEvent): void {
    if (event.type === SERVER_FRAME.chatMessage) super.deliver(event);
  }
}
