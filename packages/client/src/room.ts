import {
  CLIENT_FRAME,
  SERVER_FRAME,
  TERMINAL_CLOSE_CODES,
  chatSocketPath,
  compareMessageIds,
  parseServerFrame,
  type ChatDeleteFrame,
  type ChatEditFrame,
  type ChatMessage,
  type ErrorFrame,
  type ReactionEmoji,
  type ReactionFrame,
  type PresenceFrame,
  type RecoveredFrame,
  type TypingFrame,
} from '@roomcast/protocol';
import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { Heartbeat } from './heartbeat.js';
import { Outbox, type RoomEventFrame, type Sent } from './outbox.js';
import { RoomClosed, TERMINAL_REFUSALS } from './refusals.js';
import { newClientId, newNonce } from './nonce.js';
import { browserWebSocketFactory, probeUpgrade, type SocketLike, type UpgradeRefusal, type WebSocketFactory } from './socket.js';

/**
 * `connecting`: first try. `open`: joined and live. `reconnecting`: dropped, waiting or trying
 * again. `closed`: closed by `close()` or refused for good (a terminal close code such as 1008
 * or 4001, or a refused upgrade such as 401 `session_expired`); it will not come back alone.
 */
export type RoomStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface RoomClientOptions {
  /**
   * The server's base URL, `http(s)://` or `ws(s)://`, e.g. `http://127.0.0.1:8000`; or a function
   * asked at every (re)connect, to move to another node when one goes away.
   */
  url: string | (() => string);
  room: string;
  /** Resume after this message ID on the first connect (default: live only). */
  since?: string;
  /** Opens sockets; default the global `WebSocket` (browsers, Node 22). Node 20: `nodeWebSocketFactory(ws)`. */
  createSocket?: WebSocketFactory;
  /** Delay before reconnect try `tries`; default `backoffDelay`. */
  reconnectDelay?: (tries: number) => number;
  /** Resend sends not yet confirmed after a reconnect (the server stores a nonce once). Default true. */
  resendUnconfirmed?: boolean;
  /**
   * Sent as `?client=` so that this client's nonces are its own across reconnects even when
   * anonymous (a resend after a reconnect is then stored once). Default: a new random ID; pass
   * the same one to every RoomClient of one page that takes over another's sends.
   */
  clientId?: string;
  /**
   * Delay before resending a send the server answered `unconfirmed` (it may have been stored:
   * the same nonce is resent, which the server stores at most once). Default `backoffDelay`.
   */
  resendDelay?: (tries: number) => number;
  /** Shortest gap between typing notices. Default 2000 ms. */
  typingIntervalMs?: number;
  /** More query parameters for the socket URL, asked at every (re)connect: `token`, a guest's `name`. */
  query?: Record<string, string> | (() => Record<string, string>);
  /**
   * With nothing heard for this long the client sends a `ping`; with nothing heard for twice this
   * long the link is taken for dead and the client reconnects. Default 5000 ms; 0 turns it off.
   */
  heartbeatMs?: number;
  /**
   * Finds out why an upgrade failed when the socket cannot say (browsers). Default: `probeUpgrade`
   * where there is a `document` (a browser page), none elsewhere.
   */
  probe?: ((socketUrl: string) => Promise<UpgradeRefusal | undefined>) | null;
}

export interface RoomEvents extends Record<string, unknown> {
  message: ChatMessage;
  /** A message's text was replaced (`roomcast.v1` only, as every change below). */
  edit: ChatEditFrame;
  /** A message was deleted: show a tombstone, its text is gone. */
  delete: ChatDeleteFrame;
  /** Someone set (`on: true`) or took back a reaction: `on` is absolute, so applying it twice is harmless. */
  reaction: ReactionFrame;
  presence: PresenceFrame;
  typing: TypingFrame;
  recovered: RecoveredFrame;
  error: ErrorFrame;
  status: RoomStatus;
  close: { code: number; reason: string };
  /** The server refused the upgrade (status and code); terminal ones also close the client. */
  refused: UpgradeRefusal;
}

/**
 * One room, kept joined: reconnects with backoff and jitter, resumes with `since` from the last
 * message seen, drops duplicates by ID, buffers sends until open and confirms each by its nonce.
 */
export class RoomClient extends Emitter<RoomEvents> {
  private socket: SocketLike | undefined;
  private statusValue: RoomStatus = 'connecting';
  private tries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private lastIdValue: string | undefined;
  private readonly outbox: Outbox;
  private lastTypingAt = 0;
  private readonly createSocket: WebSocketFactory;
  /** This client's `?client=` ID, the same across its reconnects. */
  readonly clientId: string;
  private readonly probe: ((socketUrl: string) => Promise<UpgradeRefusal | undefined>) | undefined;
  private readonly heartbeat: Heartbeat;
  private endedValue: RoomClosed | undefined;

  constructor(private readonly options: RoomClientOptions) {
    super();
    this.clientId = options.clientId ?? newClientId();
    this.lastIdValue = options.since;
    this.createSocket = options.createSocket ?? browserWebSocketFactory();
    this.heartbeat = new Heartbeat(options.heartbeatMs ?? 5000);
    this.outbox = new Outbox({
      resendUnconfirmed: options.resendUnconfirmed ?? true,
      resendDelay: options.resendDelay,
      openSocket: () => (this.statusValue === 'open' ? this.socket : undefined),
    });
    const inPage = typeof (globalThis as { document?: unknown }).document !== 'undefined';
    this.probe = options.probe === undefined ? (inPage ? probeUpgrade : undefined) : (options.probe ?? undefined);
  }

  /** Why the client closed, once it has. */
  get ended(): RoomClosed | undefined {
    return this.endedValue;
  }

  get status(): RoomStatus {
    return this.statusValue;
  }

  /** ID of the newest message received: where a reconnect resumes. */
  get lastId(): string | undefined {
    return this.lastIdValue;
  }

  /** Sends not yet confirmed by the server, oldest first. */
  get unconfirmed(): string[] {
    return this.outbox.nonces;
  }

  /** Opens the socket. Calling it twice, or after `close()`, is a programming error. */
  connect(): this {
    if (this.socket || this.timer) throw new Error('RoomClient.connect() called twice');
    if (this.statusValue === 'closed') throw new Error('RoomClient is closed; make a new one');
    this.open();
    return this;
  }

  private socketUrl(): string {
    const base = new URL(typeof this.options.url === 'function' ? this.options.url() : this.options.url);
    base.protocol = base.protocol === 'https:' || base.protocol === 'wss:' ? 'wss:' : 'ws:';
    const url = new URL(chatSocketPath(this.options.room), base);
    if (this.lastIdValue !== undefined) url.searchParams.set('since', this.lastIdValue);
    url.searchParams.set('client', this.clientId);
    const query = typeof this.options.query === 'function' ? this.options.query() : this.options.query;
    for (const [name, value] of Object.entries(query ?? {})) url.searchParams.set(name, value);
    return url.toString();
  }

  private open(): void {
    this.timer = undefined;
    const url = this.socketUrl();
    const socket = this.createSocket(url);
    this.socket = socket;
    let opened = false;
    let refusal: UpgradeRefusal | undefined;
    // Events of a socket that was replaced are ignored: `this.socket !== socket`.
    socket.onopen = () => {
      if (this.socket !== socket) return;
      opened = true;
      this.tries = 0;
      this.setStatus('open');
      this.heartbeat.start(
        () => socket.send(JSON.stringify({ type: CLIENT_FRAME.ping })),
        () => this.linkLost(),
      );
      this.outbox.flush(socket);
    };
    socket.onmessage = (event) => {
      if (this.socket !== socket) return;
      this.heartbeat.heard();
      if (typeof event.data === 'string') this.receive(event.data);
    };
    socket.onrefused = (answer) => {
      refusal = answer;
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.heartbeat.stop();
      if (opened || refusal !== undefined || !this.probe) {
        this.onSocketClosed(event.code, event.reason, refusal);
        return;
      }
      // The upgrade failed and the socket cannot say why: ask, while showing `reconnecting`.
      this.setStatus('reconnecting');
      void this.probe(url)
        .catch(() => undefined)
        .then((answer) => {
          // Closed or reconnected meanwhile: the answer is about a socket nobody waits for.
          if (this.statusValue === 'closed' || this.socket !== undefined || this.timer !== undefined) return;
          this.onSocketClosed(event.code, event.reason, answer);
        });
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
  }

  private onSocketClosed(code: number, reason: string, refusal?: UpgradeRefusal): void {
    this.emit('close', { code, reason });
    if (refusal) this.emit('refused', refusal);
    this.outbox.socketLost();
    if (this.statusValue === 'closed') return;
    if (refusal && TERMINAL_REFUSALS.has(refusal.status)) {
      this.shutDown(`refused by the server (${refusal.status} ${refusal.code}${refusal.reason ? `: ${refusal.reason}` : ''})`, undefined, refusal);
      return;
    }
    if (TERMINAL_CLOSE_CODES.has(code)) {
      this.shutDown(`refused by the server (${code}${reason ? `: ${reason}` : ''})`, code);
      return;
    }
    this.setStatus('reconnecting');
    const delay = (this.options.reconnectDelay ?? backoffDelay)(this.tries);
    this.tries += 1;
    this.timer = setTimeout(() => this.open(), delay);
  }

  private receive(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    switch (frame.type) {
      case SERVER_FRAME.chatMessage:
        if (this.fresh(frame)) this.emit('message', frame);
        return;
      case SERVER_FRAME.chatEdit:
        if (this.fresh(frame)) this.emit('edit', frame);
        return;
      case SERVER_FRAME.chatDelete:
        if (this.fresh(frame)) this.emit('delete', frame);
        return;
      case SERVER_FRAME.reaction:
        if (this.fresh(frame)) this.emit('reaction', frame);
        return;
      case SERVER_FRAME.error:
        if (!this.outbox.refuse(frame)) this.emit('error', frame);
        return;
      case SERVER_FRAME.pong:
        return;
      case SERVER_FRAME.presence:
        this.emit('presence', frame);
        return;
      case SERVER_FRAME.typing:
        this.emit('typing', frame);
        return;
      case SERVER_FRAME.recovered:
        this.emit('recovered', frame);
        return;
    }
  }

  /**
   * One event of the room's log arrived: it confirms our send with its nonce (even one already
   * seen: after a reconnect the replay brings it without its nonce, and the resend's answer brings
   * the nonce), and it is new unless its ID is not after the newest we have (a resume's overlap).
   */
  private fresh(frame: RoomEventFrame): boolean {
    this.outbox.confirm(frame);
    if (this.lastIdValue !== undefined && compareMessageIds(frame.id, this.lastIdValue) <= 0) return false;
    this.lastIdValue = frame.id;
    return true;
  }

  /**
   * Posts a message, answering `replyTo` when given. Resolves with the server's stored copy (its
   * ID and time), or rejects with `SendRefused` when the server refuses it. While offline the send
   * waits and goes out on the next connection.
   */
  send(text: string, nonce: string = newNonce(), options: { replyTo?: string } = {}): Sent<ChatMessage> {
    const frame = { type: CLIENT_FRAME.chatMessage, message: text, ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }) };
    return this.enqueue<ChatMessage>(frame, nonce, text);
  }

  /** Replaces the text of one of our own messages; resolves with the server's `chat.edit`. */
  edit(target: string, text: string, nonce: string = newNonce()): Sent<ChatEditFrame> {
    return this.enqueue<ChatEditFrame>({ type: CLIENT_FRAME.chatEdit, target, message: text }, nonce, text);
  }

  /** Deletes one of our own messages; resolves with the server's `chat.delete`. */
  delete(target: string, nonce: string = newNonce()): Sent<ChatDeleteFrame> {
    return this.enqueue<ChatDeleteFrame>({ type: CLIENT_FRAME.chatDelete, target }, nonce);
  }

  /** Toggles our reaction `emoji` on `target`; resolves with the server's `reaction` (`on` says which way it went). */
  react(target: string, emoji: ReactionEmoji, nonce: string = newNonce()): Sent<ReactionFrame> {
    return this.enqueue<ReactionFrame>({ type: CLIENT_FRAME.reaction, target, emoji }, nonce);
  }

  /** Queues one frame under `nonce` until the server answers it with its copy or an error frame. */
  private enqueue<T extends RoomEventFrame>(frame: Record<string, unknown>, nonce: string, text?: string): Sent<T> {
    if (this.statusValue === 'closed') throw new Error('RoomClient is closed');
    return this.outbox.add<T>(frame, nonce, text);
  }

  /** Tells the room this user is typing, at most once per `typingIntervalMs`. */
  typing(): void {
    const now = Date.now();
    if (now - this.lastTypingAt < (this.options.typingIntervalMs ?? 2000)) return;
    if (!this.socket || this.statusValue !== 'open') return;
    this.lastTypingAt = now;
    this.socket.send(JSON.stringify({ type: CLIENT_FRAME.typing }));
  }

  /**
   * The network is gone (the browser's `offline` event): the socket is given up now instead of
   * when a heartbeat notices, and the client reconnects with backoff. Pending sends stay pending.
   */
  linkLost(): void {
    const socket = this.socket;
    if (!socket || this.statusValue === 'closed') return;
    this.socket = undefined;
    this.heartbeat.stop();
    socket.onclose = null;
    socket.close(4000, 'link lost');
    this.onSocketClosed(1006, 'link lost');
  }

  /** Leaves the room for good: no reconnect; unconfirmed sends are rejected. */
  close(): void {
    this.shutDown('closed by the client');
  }

  private shutDown(reason: string, closeCode?: number, refusal?: UpgradeRefusal): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heartbeat.stop();
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'bye');
    this.endedValue = new RoomClosed(`not sent: ${reason}`, closeCode, refusal);
    this.outbox.rejectAll(this.endedValue);
    this.setStatus('closed');
  }

  private setStatus(status: RoomStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.emit('status', status);
  }
}
