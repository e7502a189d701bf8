/** How long a publish is remembered by its key: a repeat within this returns the first result. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** A key is never remembered longer than its room: once the room is forgotten, so are its keys. */
export const idempotencyTtlMs = (roomIdleTtlMs: number): number => Math.min(IDEMPOTENCY_TTL_MS, roomIdleTtlMs);

/** What one embedded entry costs besides its strings: the map slot and the record. */
const ENTRY_OVERHEAD_BYTES = 120;

export interface RecentKeysLimits {
  /** Entries kept at most; the oldest go first. Default 50,000. */
  maxEntries?: number;
  /** Estimated bytes kept at most (keys, IDs and overhead); the oldest go first. Default 8 MiB. */
  maxBytes?: number;
}

interface Entry {
  id: string;
  expiresAt: number;
  bytes: number;
}

/**
 * The embedded backend's memory of publish keys: key to message ID, in insertion order, each
 * for `ttlMs`, bounded by count and by bytes (estimated at two bytes a character, an
 * overestimate: ~210 bytes of heap measured with the longest room, client ID and nonce). Only
 * the ID is kept, never the message: a repeat is answered from the room's history, or from its
 * own draft once trimmed.
 */
export class RecentKeys {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly maxEntries: number;
  private readonly maxBytes: number;

  constructor(
    private readonly ttlMs: number,
    limits: RecentKeysLimits = {},
    private readonly now: () => number = Date.now,
  ) {
    this.maxEntries = limits.maxEntries ?? 50_000;
    this.maxBytes = limits.maxBytes ?? 8 * 1024 * 1024;
  }

  /** The message ID first published under `key`, if it is still remembered. */
  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    return entry && entry.expiresAt > this.now() ? entry.id : undefined;
  }

  set(key: string, id: string, ttlMs = this.ttlMs): void {
    this.delete(key);
    const bytes = 2 * (key.length + id.length) + ENTRY_OVERHEAD_BYTES;
    this.entries.set(key, { id, expiresAt: this.now() + Math.min(ttlMs, this.ttlMs), bytes });
    this.bytes += bytes;
    this.evict();
  }

  /** Drops every expired entry (the sweep of idle rooms calls this). Returns how many went. */
  evictExpired(): number {
    return this.evict();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Estimated bytes held. */
  get byteSize(): number {
    return this.bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.bytes -= entry.bytes;
  }

  /** From the oldest end: entries past a cap, and expired ones. */
  private evict(): number {
    const now = this.now();
    let dropped = 0;
    for (const [key, entry] of this.entries) {
      const over = this.entries.size > this.maxEntries || this.bytes > this.maxBytes;
      // Entries expire in insertion order (one TTL for all), so the first live one ends the sweep.
      if (!over && entry.expiresAt > now) break;
      this.delete(key);
      dropped += 1;
    }
    return dropped;
  }
}
