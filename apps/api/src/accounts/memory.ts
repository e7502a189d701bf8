import { foldUsername } from '@roomcast/protocol';
import type { Account, AccountStore } from './accounts.js';
import type { SessionStore } from './sessions.js';

/** Accounts of the embedded backend: gone when the process stops. */
export class MemoryAccountStore implements AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly folds = new Set<string>();

  async create(account: Account): Promise<boolean> {
    const key = account.username.toLowerCase();
    const fold = foldUsername(account.username);
    if (this.accounts.has(key) || this.folds.has(fold)) return false;
    this.accounts.set(key, { ...account });
    this.folds.add(fold);
    return true;
  }

  async foldTaken(folded: string): Promise<boolean> {
    return this.folds.has(folded);
  }

  async find(username: string): Promise<Account | undefined> {
    const account = this.accounts.get(username.toLowerCase());
    return account && { ...account };
  }
}

/** How often expired sessions are swept out of memory. */
const SWEEP_INTERVAL_MS = 60_000;

/** Sessions of the embedded backend: serialized copies with an expiry, swept once a minute. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, { data: string; expiresAt: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    this.sweeper.unref();
  }

  async get(sessionId: string): Promise<string | undefined> {
    const entry = this.sessions.get(sessionId);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.sessions.delete(sessionId);
      return undefined;
    }
    return entry.data;
  }

  async set(sessionId: string, data: string, ttlMs: number): Promise<void> {
    this.sessions.set(sessionId, { data, expiresAt: this.now() + ttlMs });
  }

  async destroy(sessionId: string): Promise<void> {
    this.sessions.delete(sessionId);
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.clear();
  }

  /** Number of live sessions (tests). */
  get size(): number {
    this.sweep();
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, entry] of this.sessions) if (entry.expiresAt <= now) this.sessions.delete(id);
  }
}
