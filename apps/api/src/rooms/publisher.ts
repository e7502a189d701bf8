import { type ChatMessage } from '@roomcast/protocol';
import type { AppendOrigin, MessageDraft, RoomHistory } from '../history/room-history.js';
import type { Metrics } from '../metrics.js';
import type { IdempotencyStore } from './idempotency.js';

export interface Published {
  message: ChatMessage;
  /** True when the key was seen before: nothing new was stored, `message` is the first result. */
  duplicate: boolean;
}

/** How long a repeat waits for a racing first publish with the same key to finish. */
const PENDING_WAIT_MS = 3000;
const PENDING_POLL_MS = 50;

export class PublishPending extends Error {
  constructor() {
    super('A publish with the same key is still in progress.');
    this.name = 'PublishPending';
  }
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
  /** How long `dedupeKey` is remembered (default 24 hours): long enough for any redelivery. */
  rememberMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The one publish path. A message from a socket, from `POST /rooms/:room/messages` and from the
 * CLI (which posts over HTTP) comes through here: stored and fanned out in one step by the room
 * history, so it reaches everyone in the order it is kept. With a `dedupeKey` (a socket nonce, an
 * `Idempotency-Key`), a repeat within 24 hours stores nothing and returns the first message.
 */
export class Publisher {
  private readonly storedListeners: StoredListener[] = [];

  constructor(
    private readonly history: RoomHistory,
    private readonly idempotency: IdempotencyStore,
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

  private async store(draft: MessageDraft, origin: AppendOrigin, dedupeKey: string | undefined, rememberMs: number | undefined): Promise<Published> {
    if (dedupeKey === undefined) return { message: await this.append(draft, origin), duplicate: false };
    if (this.history.appendOnce) return this.publishOnce(draft, origin, dedupeKey, rememberMs);
    const deadline = Date.now() + PENDING_WAIT_MS;
    for (;;) {
      const claim = await this.idempotency.claim(dedupeKey);
      if (claim.state === 'done') return { message: claim.message, duplicate: true };
      if (claim.state === 'claimed') break;
      if (Date.now() > deadline) throw new PublishPending();
      await sleep(PENDING_POLL_MS);
    }
    let message: ChatMessage;
    try {
      message = await this.append(draft, origin);
    } catch (error) {
      await this.idempotency.release(dedupeKey).catch(() => undefined);
      throw error;
    }
    // Stored and sent already: a failure to remember the key must not turn into a refusal.
    await this.idempotency.complete(dedupeKey, message, rememberMs).catch(() => undefined);
    return { message, duplicate: false };
  }

  /** A keyed publish where the history checks the key in the same step as the append (Redis). */
  private async publishOnce(draft: MessageDraft, origin: AppendOrigin, key: string, rememberMs: number | undefined): Promise<Published> {
    const deadline = Date.now() + PENDING_WAIT_MS;
    for (;;) {
      const result = await this.history.appendOnce!(draft, origin, key, rememberMs);
      if (result.state === 'stored') {
        this.metrics.messagesIn += 1;
        return { message: result.message, duplicate: false };
      }
      if (result.state === 'duplicate') return { message: result.message, duplicate: true };
      if (Date.now() > deadline) throw new PublishPending();
      await sleep(PENDING_POLL_MS);
    }
  }

  private async append(draft: MessageDraft, origin: AppendOrigin): Promise<ChatMessage> {
    const message = await this.history.append(draft, origin);
    this.metrics.messagesIn += 1;
    return message;
  }
}

/** The dedupe key of a socket send: its nonce, scoped to the room and sender so nonces cannot collide across them. */
export const nonceKey = (room: string, user: string | null, nonce: string): string =>
  `nonce:${room}:${user ?? ''}:${nonce}`;

/** The dedupe key of an HTTP publish: the `Idempotency-Key`, scoped to who presents it. */
export const idempotencyKeyOf = (publisher: string, key: string): string => `http:${publisher}:${key}`;
