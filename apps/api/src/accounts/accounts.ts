import { foldUsername } from '@roomcast/protocol';
import type { SessionUser } from '../types.js';
import { decoyHash, hashPassword, verifyPassword } from './passwords.js';

/** A stored account. `username` keeps the case it was registered with; uniqueness ignores case. */
export interface Account {
  username: string;
  passwordHash: string;
  createdAt: number;
}

/** Where accounts live: in memory on the embedded backend, in Redis on the Redis backend. */
export interface AccountStore {
  /**
   * Stores `account` unless a name with the same fold (`foldUsername`: case and look-alike
   * characters) is taken; false when it is. The fold is claimed in the same step, so two racing
   * look-alikes cannot both win.
   */
  create(account: Account): Promise<boolean>;
  /** The account of `username`, matched case-insensitively. */
  find(username: string): Promise<Account | undefined>;
  /** Whether an account's name folds to `folded`. */
  foldTaken(folded: string): Promise<boolean>;
}

/** Registration and password checks over an account store. Usernames and lengths are checked by the caller. */
export class Accounts {
  constructor(private readonly store: AccountStore) {}

  /** Whether `name` is, or reads as, a registered username (a guest may not take it). */
  isRegistered(name: string): Promise<boolean> {
    return this.store.foldTaken(foldUsername(name));
  }

  /** The new user, or undefined when the username is taken. */
  async register(username: string, password: string): Promise<SessionUser | undefined> {
    // Cheap refusal first: a taken name should not cost a hash. `create` still settles races.
    if ((await this.store.find(username)) || (await this.isRegistered(username))) return undefined;
    const account: Account = { username, passwordHash: await hashPassword(password), createdAt: Date.now() };
    return (await this.store.create(account)) ? { username } : undefined;
  }

  /** The user whose password this is, or undefined. Unknown names take as long as wrong passwords. */
  async authenticate(username: string, password: string): Promise<SessionUser | undefined> {
    const account = await this.store.find(username);
    const matches = await verifyPassword(password, account?.passwordHash ?? (await decoyHash()));
    return account && matches ? { username: account.username } : undefined;
  }
}

/** Parses a stored account record; undefined for anything that is not one. */
export function parseAccount(text: string): Account | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { username, passwordHash, createdAt } = value as Record<string, unknown>;
  if (typeof username !== 'string' || typeof passwordHash !== 'string' || typeof createdAt !== 'number') return undefined;
  return { username, passwordHash, createdAt };
}
