import type { ChatMessage } from '@roomcast/protocol';

/** How long a publish is remembered by its key: a repeat within this returns the first result. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** How long a claim may stay unfinished before another publisher may take it over (its owner died). */
export const CLAIM_TTL_MS = 30_000;

export type ClaimResult =
  | { state: 'claimed' }
  | { state: 'done'; message: ChatMessage }
  | { state: 'pending' };

/**
 * Remembers publishes by a caller-given key (an `Idempotency-Key`, a socket nonce), so a repeat
 * stores nothing new and answers with the first message. The claim is atomic: of two repeats
 * racing, one publishes and the other waits for its result.
 */
export interface IdempotencyStore {
  /** Claims `key`; `claimed` means the caller publishes then calls `complete` (or `release` on failure). */
  claim(key: string): Promise<ClaimResult>;
  /** Remembers the key's message for `rememberMs` (default IDEMPOTENCY_TTL_MS). */
  complete(key: string, message: ChatMessage, rememberMs?: number): Promise<void>;
  release(key: string): Promise<void>;
  close(): Promise<void>;
}

interface Entry {
  message: ChatMessage | undefined;
  expiresAt: number;
}

/** The embedded store: a map in insertion order, expired lazily, capped so it cannot grow without bound. */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  constructor(
    /** About 1 KB each at most: the embedded backend remembers the newest 50,000 keys (up to 24 h). */
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string): Promise<ClaimResult> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) {
      return entry.message ? { state: 'done', message: entry.message } : { state: 'pending' };
    }
    this.entries.delete(key);
    this.entries.set(key, { message: undefined, expiresAt: this.now() + CLAIM_TTL_MS });
    this.evict();
    return { state: 'claimed' };
  }

  async complete(key: string, message: ChatMessage, rememberMs = IDEMPOTENCY_TTL_MS): Promise<void> {
    this.entries.delete(key);
    this.entries.set(key, { message, expiresAt: this.now() + rememberMs });
  }

  async release(key: string): Promise<void> {
    this.entries.delete(key);
  }

  /** Drops expired entries from the oldest end, then the oldest ones past the cap. */
  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && entry.expiresAt > now) break;
      this.entries.delete(key);
    }
  }

  async close(): Promise<void> {
    this.entries.clear();
  }
}
