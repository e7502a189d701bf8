import { foldUsername } from '@roomcast/protocol';
import { PasswordGate } from '../limits/password-gate.js';
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

/**
 * Registration and password checks over an account store. Usernames and lengths are checked by
 * the caller. Every hash goes through `gate`, keyed by the client (see `clientKey`), so a flood of
 * logins costs a bounded amount of CPU and is refused quickly past it.
 */
export class Accounts {
  constructor(
    private readonly store: AccountStore,
    readonly gate: PasswordGate = new PasswordGate(),
  ) {}

  /** Whether `name` is, or reads as, a registered username (a guest may not take it). */
  isRegistered(name: string): Promise<boolean> {
    return this.store.foldTaken(foldUsername(name));
  }

  /**
   * The new user, or undefined when the username is taken or reads as a taken one. The password is
   * hashed first either way: a taken name answering in 2 ms and a free one in 170 ms told anyone
   * which names exist. `create` still settles races.
   */
  async register(username: string, password: string, client: string): Promise<SessionUser | undefined> {
    const passwordHash = await this.gate.run(client, () => hashPassword(password));
    if ((await this.store.find(username)) || (await this.isRegistered(username))) return undefined;
    return (await this.store.create({ username, passwordHash, createdAt: Date.now() })) ? { username } : undefined;
  }

  /** The user whose password this is, or undefined. Unknown names take as long as wrong passwords. */
  async authenticate(username: string, password: string, client: string): Promise<SessionUser | undefined> {
    return this.gate.run(client, async () => {
      const account = await this.store.find(username);
      const matches = await verifyPassword(password, account?.passwordHash ?? (await decoyHash()));
      return account && matches ? { username: account.username } : undefined;
    });
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
