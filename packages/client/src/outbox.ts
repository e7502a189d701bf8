import { MAX_MESSAGE_LENGTH, SERVER_FRAME, type ChatDeleteFrame, type ChatEditFrame, type ChatMessage, type ErrorFrame, type ReactionFrame } from '@roomcast/protocol';
import { backoffDelay } from './backoff.js';
import { SendRefused } from './refusals.js';
import type { SocketLike } from './socket.js';

/** A change of the room's log, as the server's copy of our own send confirms it. */
export type RoomEventFrame = ChatMessage | ChatEditFrame | ChatDeleteFrame | ReactionFrame;

/** A send under way: its nonce, and the server's copy of the change once it answers. */
export interface Sent<T extends RoomEventFrame> {
  nonce: string;
  confirmed: Promise<T>;
}

/** `unconfirmed` answers a send is resent after before it fails (with SendRefused). */
const MAX_UNCONFIRMED_RESENDS = 5;

interface PendingSend {
  nonce: string;
  /** The frame to send, without its nonce. */
  frame: Record<string, unknown>;
  /** Whether this send has gone out on the current socket. */
  sent: boolean;
  /** How many `unconfirmed` answers it has had. */
  unconfirmed: number;
  resendTimer?: ReturnType<typeof setTimeout>;
  resolve: (answer: RoomEventFrame) => void;
  reject: (error: Error) => void;
}

export interface OutboxOptions {
  /** Resend what went out on a socket that dropped (the server stores a nonce once). */
  resendUnconfirmed: boolean;
  /** Delay before resending a send answered `unconfirmed`. Default `backoffDelay`. */
  resendDelay?: ((tries: number) => number) | undefined;
  /** The socket to send on now, if the room is open. */
  openSocket: () => SocketLike | undefined;
}

/**
 * Every send of a RoomClient (messages, edits, deletions, reactions) until the server answers it:
 * each under a nonce, in order, held while the server asks us to wait (`rate_limited`), resent
 * under the same nonce when its outcome is unknown (`unconfirmed`, a dropped socket).
 */
export class Outbox {
  private readonly pending = new Map<string, PendingSend>();
  /** Sends refused as `rate_limited` wait until then, and go out again by themselves. */
  private holdUntil = 0;
  private holdTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: OutboxOptions) {}

  /** Nonces of the sends not yet answered, oldest first. */
  get nonces(): string[] {
    return [...this.pending.values()].map((send) => send.nonce);
  }

  /** Queues `frame` under `nonce`; `text` is checked against the length limit first. */
  add<T extends RoomEventFrame>(frame: Record<string, unknown>, nonce: string, text?: string): Sent<T> {
    const confirmed = new Promise<T>((resolve, reject) => {
      if (text !== undefined && text.length > MAX_MESSAGE_LENGTH) {
        reject(new SendRefused({ type: SERVER_FRAME.error, code: 'too_long', reason: `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`, nonce }));
        return;
      }
      this.pending.set(nonce, { nonce, frame, sent: false, unconfirmed: 0, resolve: resolve as (answer: RoomEventFrame) => void, reject });
    });
    // Callers that only fire and forget should not see unhandled rejections.
    confirmed.catch(() => undefined);
    this.flushIfOpen();
    return { nonce, confirmed };
  }

  /** The server's copy of a change arrived: it answers our send with that nonce, if any. */
  confirm(frame: RoomEventFrame): void {
    const send = frame.nonce === undefined ? undefined : this.pending.get(frame.nonce);
    if (!send) return;
    this.settle(send);
    send.resolve(frame);
  }

  /**
   * An error frame: a send waits (`rate_limited`), goes out again (`unconfirmed`) or is refused.
   * True when the frame was only "wait": nothing failed, nobody needs to hear of it.
   */
  refuse(frame: ErrorFrame): boolean {
    const send = frame.nonce === undefined ? undefined : this.pending.get(frame.nonce);
    if (!send) return false;
    if (frame.code === 'rate_limited' && frame.retryAfterMs !== undefined) {
      // Over the socket's rate: not a failure. It waits as asked and goes out again, same nonce.
      send.sent = false;
      this.hold(frame.retryAfterMs);
      return true;
    }
    if (frame.code === 'unconfirmed' && this.options.resendUnconfirmed && send.unconfirmed < MAX_UNCONFIRMED_RESENDS) {
      this.resendLater(send);
      return false;
    }
    this.settle(send);
    send.reject(new SendRefused(frame));
    return false;
  }

  /**
   * The socket dropped. A send that went out on it may or may not be stored: the server stores a
   * nonce once, so resending is safe and is the default; without it, such sends fail.
   */
  socketLost(): void {
    for (const send of [...this.pending.values()]) {
      if (!send.sent) continue;
      if (this.options.resendUnconfirmed) {
        send.sent = false;
      } else {
        this.settle(send);
        send.reject(new Error('connection lost before the server confirmed the message'));
      }
    }
  }

  /** Sends everything pending that has not gone out on this socket, in order. */
  flush(socket: SocketLike): void {
    if (Date.now() < this.holdUntil) return;
    for (const send of this.pending.values()) {
      if (send.sent || send.resendTimer !== undefined) continue;
      send.sent = true;
      socket.send(JSON.stringify({ ...send.frame, nonce: send.nonce }));
    }
  }

  /** The client closed for good: every send still waiting fails with `error`. */
  rejectAll(error: Error): void {
    clearTimeout(this.holdTimer);
    for (const send of this.pending.values()) {
      clearTimeout(send.resendTimer);
      send.reject(error);
    }
    this.pending.clear();
  }

  private flushIfOpen(): void {
    const socket = this.options.openSocket();
    if (socket) this.flush(socket);
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
      this.flushIfOpen();
    }, (this.options.resendDelay ?? backoffDelay)(send.unconfirmed - 1));
  }

  /** A send is answered: no longer pending. */
  private settle(send: PendingSend): void {
    clearTimeout(send.resendTimer);
    this.pending.delete(send.nonce);
  }

  /** Holds sends for `ms` (the longest hold asked for wins), then flushes what waits. */
  private hold(ms: number): void {
    const until = Date.now() + ms;
    if (until <= this.holdUntil) return;
    this.holdUntil = until;
    clearTimeout(this.holdTimer);
    this.holdTimer = setTimeout(() => {
      this.holdTimer = undefined;
      // Timers may fire a millisecond before the clock says: the hold is over when this runs.
      this.holdUntil = 0;
      this.flushIfOpen();
    }, ms);
  }
}
