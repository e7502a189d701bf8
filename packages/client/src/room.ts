import {
  CLIENT_FRAME,
  MAX_MESSAGE_LENGTH,
  SERVER_FRAME,
  TERMINAL_CLOSE_CODES,
  chatSocketPath,
  compareMessageIds,
  parseServerFrame,
  type ChatMessage,
  type ErrorFrame,
  type PresenceFrame,
  type RecoveredFrame,
  type TypingFrame,
} from '@roomcast/protocol';
import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { newClientId, newNonce } from './nonce.js';
import type { SocketLike, WebSocketFactory } from './socket.js';
import { browserWebSocketFactory } from './socket.js';

/**
 * `connecting`: first try. `open`: joined and live. `reconnecting`: dropped, waiting or trying
 * again. `closed`: closed by `close()` or refused for good (1008); it will not come back alone.
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
}

export interface RoomEvents extends Record<string, unknown> {
  message: ChatMessage;
  presence: PresenceFrame;
  typing: TypingFrame;
  recovered: RecoveredFrame;
  error: ErrorFrame;
  status: RoomStatus;
  close: { code: number; reason: string };
}

/** A send waiting for the server's copy. */
export class SendRefused extends Error {
  constructor(readonly frame: ErrorFrame) {
    super(frame.reason);
    this.name = 'SendRefused';
  }
}

/** `unconfirmed` answers a send is resent after before it fails (with SendRefused). */
const MAX_UNCONFIRMED_RESENDS = 5;

interface PendingSend {
  nonce: string;
  text: string;
  /** Whether this send has gone out on the current socket. */
  sent: boolean;
  /** How many `unconfirmed` answers it has had. */
  unconfirmed: number;
  resendTimer?: ReturnType<typeof setTimeout>;
  resolve: (message: ChatMessage) => void;
  reject: (error: Error) => void;
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
  private readonly pending = new Map<string, PendingSend>();
  private lastTypingAt = 0;
  private readonly createSocket: WebSocketFactory;
  /** This client's `?client=` ID, the same across its reconnects. */
  readonly clientId: string;

  constructor(private readonly options: RoomClientOptions) {
    super();
    this.clientId = options.clientId ?? newClientId();
    this.lastIdValue = options.since;
    this.createSocket = options.createSocket ?? browserWebSocketFactory();
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
    return [...this.pending.values()].map((send) => send.nonce);
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
    return url.toString();
  }

  private open(): void {
    this.timer = undefined;
    const socket = this.createSocket(this.socketUrl());
    this.socket = socket;
    // Events of a socket that was replaced are ignored: `this.socket !== socket`.
    socket.onopen = () => {
      if (this.socket !== socket) return;
      this.tries = 0;
      this.setStatus('open');
      this.flush(socket);
    };
    socket.onmessage = (event) => {
      if (this.socket === socket && typeof event.data === 'string') this.receive(event.data);
    };
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.onSocketClosed(event.code, event.reason);
    };
    socket.onerror = () => {
      // A close event always follows; reconnecting is decided there.
    };
  }

  private onSocketClosed(code: number, reason: string): void {
    this.emit('close', { code, reason });
    this.requeueUnconfirmed();
    if (this.statusValue === 'closed') return;
    if (TERMINAL_CLOSE_CODES.has(code)) {
      this.shutDown(`refused by the server (${code}${reason ? `: ${reason}` : ''})`);
      return;
    }
    this.setStatus('reconnecting');
    const delay = (this.options.reconnectDelay ?? backoffDelay)(this.tries);
    this.tries += 1;
    this.timer = setTimeout(() => this.open(), delay);
  }

  /**
   * A send that went out on a socket that then dropped may or may not be stored. The server
   * stores a nonce once, so resending is safe and is the default; without it, such sends fail.
   */
  private requeueUnconfirmed(): void {
    const resend = this.options.resendUnconfirmed ?? true;
    for (const send of [...this.pending.values()]) {
      if (!send.sent) continue;
      if (resend) {
        send.sent = false;
      } else {
        this.settle(send);
        send.reject(new Error('connection lost before the server confirmed the message'));
      }
    }
  }

  private receive(text: string): void {
    const frame = parseServerFrame(text);
    if (!frame) return;
    switch (frame.type) {
      case SERVER_FRAME.chatMessage: {
        // A confirmation counts even for a message already seen: after a reconnect the replay
        // brings it without its nonce, and the resend's answer brings the nonce.
        const send = frame.nonce === undefined ? undefined : this.pending.get(frame.nonce);
        if (send) {
          this.settle(send);
          send.resolve(frame);
        }
        if (this.lastIdValue !== undefined && compareMessageIds(frame.id, this.lastIdValue) <= 0) return;
        this.lastIdValue = frame.id;
        this.emit('message', frame);
        return;
      }
      case SERVER_FRAME.error: {
        const send = frame.nonce === undefined ? undefined : this.pending.get(frame.nonce);
        const resend = (this.options.resendUnconfirmed ?? true) && send !== undefined && send.unconfirmed < MAX_UNCONFIRMED_RESENDS;
        if (send && frame.code === 'unconfirmed' && resend) {
          this.resendLater(send);
        } else if (send) {
          this.settle(send);
          send.reject(new SendRefused(frame));
        }
        this.emit('error', frame);
        return;
      }
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
   * Posts a message. Resolves with the server's stored copy (its ID and time), or rejects with
   * `SendRefused` when the server refuses it. While offline the send waits and goes out on the
   * next connection.
   */
  send(text: string, nonce: string = newNonce()): { nonce: string; confirmed: Promise<ChatMessage> } {
    if (this.statusValue === 'closed') throw new Error('RoomClient is closed');
    const confirmed = new Promise<ChatMessage>((resolve, reject) => {
      if (text.length > MAX_MESSAGE_LENGTH) {
        reject(new SendRefused({ type: SERVER_FRAME.error, code: 'too_long', reason: `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`, nonce }));
        return;
      }
      this.pending.set(nonce, { nonce, text, sent: false, unconfirmed: 0, resolve, reject });
    });
    // Callers that only fire and forget should not see unhandled rejections.
    confirmed.catch(() => undefined);
    if (this.socket && this.statusValue === 'open') this.flush(this.socket);
    return { nonce, confirmed };
  }

  /**
   * The server could not tell whether a send was stored (its backend did not answer in time):
   * the same nonce goes out again after a delay, and the server stores it at most once.
   */
  private resendLater(send: PendingSend): void {
    send.unconfirmed += 1;
    send.sent = false;
    clearTimeout(send.resendTimer);
    send.resendTimer = setTimeout(() => {
      send.resendTimer = undefined;
      if (this.socket && this.statusValue === 'open') this.flush(this.socket);
    }, (this.options.resendDelay ?? backoffDelay)(send.unconfirmed - 1));
  }

  /** A send is answered: no longer pending. */
  private settle(send: PendingSend): void {
    clearTimeout(send.resendTimer);
    this.pending.delete(send.nonce);
  }

  /** Sends everything pending that has not gone out on this socket, in order. */
  private flush(socket: SocketLike): void {
    for (const send of this.pending.values()) {
      if (send.sent || send.resendTimer !== undefined) continue;
      send.sent = true;
      socket.send(JSON.stringify({ type: CLIENT_FRAME.chatMessage, message: send.text, nonce: send.nonce }));
    }
  }

  /** Tells the room this user is typing, at most once per `typingIntervalMs`. */
  typing(): void {
    const now = Date.now();
    if (now - this.lastTypingAt < (this.options.typingIntervalMs ?? 2000)) return;
    if (!this.socket || this.statusValue !== 'open') return;
    this.lastTypingAt = now;
    this.socket.send(JSON.stringify({ type: CLIENT_FRAME.typing }));
  }

  /** Leaves the room for good: no reconnect; unconfirmed sends are rejected. */
  close(): void {
    this.shutDown('closed by the client');
  }

  private shutDown(reason: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'bye');
    for (const send of this.pending.values()) {
      clearTimeout(send.resendTimer);
      send.reject(new Error(`not sent: ${reason}`));
    }
    this.pending.clear();
    this.setStatus('closed');
  }

  private setStatus(status: RoomStatus): void {
    if (this.statusValue === status) return;
    this.statusValue = status;
    this.emit('status', status);
  }
}
