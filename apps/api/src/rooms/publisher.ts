import type { ChatMessage, ErrorCode } from '@roomcast/protocol';
import { NotStored } from '../backend-errors.js';
import { ChangeRefused, type ChangeDraft } from '../history/room-events.js';
import type { AppendOrigin, ChangeResult, MessageDraft, RoomHistory } from '../history/room-history.js';
import type { Metrics } from '../metrics.js';

export interface Published {
  message: ChatMessage;
  /** True when the key was seen before: nothing new was stored, `message` is the first result. */
  duplicate: boolean;
}

/**
 * Told of every message newly stored through this publisher (so once per message in the cluster:
 * each is published on one node), with the bridge it came in through, if any.
 */
export type StoredListener = (message: ChatMessage, bridge: string | undefined) => void;

/** Where a message came from when that is a bridge, and how long its key is remembered. */
export interface BridgeOrigin {
  /** The bridge's name (`django`), so that its own listener does not send the message back. */
  bridge: string;
  /** How long `dedupeKey` is remembered (default: the idempotency window): long enough for any redelivery. */
  rememberMs?: number;
}

/**
 * The one publish path. A message from a socket, from `POST /rooms/:room/messages` and from the
 * CLI (which posts over HTTP) comes through here: stored and fanned out in one step by the room
 * history, so it reaches everyone in the order it is kept. With a `dedupeKey` (a scoped socket
 * nonce, an `Idempotency-Key`), a repeat within the idempotency window stores nothing and
 * returns the first message; the history checks the key in the same step as the append.
 */
export class Publisher {
  private readonly storedListeners: StoredListener[] = [];

  constructor(
    private readonly history: RoomHistory,
    private readonly metrics: Metrics,
  ) {}

  /** Runs `listener` after each new message is stored (not for duplicates). */
  onStored(listener: StoredListener): void {
    this.storedListeners.push(listener);
  }

  /** `from` says when the message comes from a bridge (the Django Channels bridge). */
  async publish(draft: MessageDraft, origin: AppendOrigin = {}, dedupeKey?: string, from?: BridgeOrigin): Promise<Published> {
    const published = await this.store(draft, origin, dedupeKey, from?.rememberMs);
    if (!published.duplicate) {
      for (const listener of this.storedListeners) listener(published.message, from?.bridge);
    }
    return published;
  }

  /**
   * A change to a message (edit, delete, reaction): appended to the same log through the same
   * history, in the same sequence, fanned out the same way; at most once per `dedupeKey`. Throws
   * ChangeRefused when the log refuses it (see `changeRefusal`). Bridges are not told: they carry
   * chat messages only.
   */
  async change(draft: ChangeDraft, origin: AppendOrigin = {}, dedupeKey?: string): Promise<ChangeResult> {
    return this.history.change(draft, origin, dedupeKey);
  }

  private async store(draft: MessageDraft, origin: AppendOrigin, dedupeKey: string | undefined, rememberMs: number | undefined): Promise<Published> {
    if (dedupeKey === undefined) {
      const message = await this.history.append(draft, origin);
      this.metrics.messagesIn += 1;
      return { message, duplicate: false };
    }
    const result = await this.history.appendOnce(draft, origin, dedupeKey, rememberMs);
    if (result.state === 'stored') this.metrics.messagesIn += 1;
    return { message: result.message, duplicate: result.state === 'duplicate' };
  }
}

/**
 * The refusal for a publish that failed: the log's own (`not_found`, `forbidden`: a change or a
 * reply whose target is not kept, or not the actor's to change); `unavailable` only when the failure proves nothing was
 * stored; any other (a timeout, a connection lost mid-command) is `unconfirmed`: it may have
 * been stored, and a resend with the same nonce or key is stored at most once.
 */
export const publishRefusal = (error: unknown): ErrorCode =>
  error instanceof ChangeRefused ? error.code : error instanceof NotStored ? 'unavailable' : 'unconfirmed';

/**
 * Whose nonces a socket's sends are: the signed-in user's; else the anonymous client's own ID
 * (`?client=`, kept across its reconnects); else the connection's. Anonymous people never
 * share a namespace, so one cannot drop another's message by reusing its nonce.
 */
export const nonceScope = (user: string | null, clientId: string | undefined, channel: string): string =>
  user !== null ? `u:${user}` : clientId !== undefined ? `k:${clientId}` : `c:${channel}`;

/** The dedupe key of a socket send: its nonce, scoped to the room and the sender so nonces cannot collide across them. */
export const nonceKey = (room: string, scope: string, nonce: string): string => `nonce:${room}:${scope}:${nonce}`;

/** The dedupe key of an HTTP publish: the `Idempotency-Key`, scoped to who presents it. */
export const idempotencyKeyOf = (publisher: string, key: string): string => `http:${publisher}:${key}`;
