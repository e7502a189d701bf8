import type { RedisClient } from '../redis/client.js';
import { foldUsername } from '@roomcast/protocol';
import { accountFoldKey, accountKey, sessionKey } from '../redis/keys.js';
import { parseAccount, type Account, type AccountStore } from './accounts.js';
import type { SessionStore } from './sessions.js';

/**
 * Accounts in Redis: one JSON string per lower-cased username, created with SET NX, and one
 * claim per folded name (look-alikes), taken first with SET NX.
 */
export class RedisAccountStore implements AccountStore {
  constructor(private readonly redis: RedisClient) {}

  async create(account: Account): Promise<boolean> {
    const fold = accountFoldKey(foldUsername(account.username));
    if ((await this.redis.set(fold, account.username, 'NX')) !== 'OK') return false;
    const created = await this.redis.set(accountKey(account.username), JSON.stringify(account), 'NX');
    // An account from before folds were claimed holds the name: give the claim back.
    if (created !== 'OK') await this.redis.del(fold);
    return created === 'OK';
  }

  async foldTaken(folded: string): Promise<boolean> {
    return (await this.redis.exists(accountFoldKey(folded))) === 1;
  }

  async find(username: string): Promise<Account | undefined> {
    const text = await this.redis.get(accountKey(username));
    return text === null ? undefined : parseAccount(text);
  }
}

/** Sessions in Redis, each a string that expires with its cookie (SET PX), shared by every node. */
export class RedisSessionStore implements SessionStore {
  constructor(private readonly redis: RedisClient) {}

  async get(sessionId: string): Promise<string | undefined> {
    return (await this.redis.get(sessionKey(sessionId))) ?? undefined;
  }

  async set(sessionId: string, data: string, ttlMs: number): Promise<void> {
    await this.redis.set(sessionKey(sessionId), data, 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async destroy(sessionId: string): Promise<void> {
    await this.redis.del(sessionKey(sessionId));
  }

  /** The client belongs to the backend, which closes it. */
  async close(): Promise<void> {}
}
