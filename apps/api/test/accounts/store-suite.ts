import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AccountStore } from '../../src/accounts/accounts.js';
import { SESSION_MAX_AGE_MS, type SessionStore } from '../../src/accounts/sessions.js';
import { eventually } from '../helpers.js';

export interface Stores {
  accounts: AccountStore;
  sessions: SessionStore;
}

/** One suite, run against every implementation: they must behave alike. */
export function storeSuite(name: string, setup: { start(): Promise<Stores>; stop(stores: Stores): Promise<void> }): void {
  describe(`${name} account and session stores`, () => {
    let stores: Stores;
    beforeEach(async () => {
      stores = await setup.start();
    });
    afterEach(async () => {
      await setup.stop(stores);
    });

    it('creates an account once per username, whatever its case, and finds it in any case', async () => {
      const account = { username: 'Alice', passwordHash: '$scrypt$x', createdAt: 1 };
      expect(await stores.accounts.create(account)).toBe(true);
      expect(await stores.accounts.create({ ...account, username: 'alice', passwordHash: '$scrypt$y' })).toBe(false);
      expect(await stores.accounts.find('ALICE')).toEqual(account);
      expect(await stores.accounts.find('bob')).toBeUndefined();
    });

    it('keeps exactly one account when the same name is registered concurrently', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stores.accounts.create({ username: i % 2 ? 'race' : 'RACE', passwordHash: `$h${i}`, createdAt: i })),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('stores, reads and destroys a session', async () => {
      await stores.sessions.set('sid-1', '{"user":{"username":"alice"}}', SESSION_MAX_AGE_MS);
      expect(await stores.sessions.get('sid-1')).toBe('{"user":{"username":"alice"}}');
      expect(await stores.sessions.get('sid-2')).toBeUndefined();
      await stores.sessions.destroy('sid-1');
      expect(await stores.sessions.get('sid-1')).toBeUndefined();
    });

    it('forgets a session once its time is up', async () => {
      await stores.sessions.set('short', '{}', 150);
      await stores.sessions.set('long', '{}', SESSION_MAX_AGE_MS);
      await eventually(async () => (await stores.sessions.get('short')) === undefined, 5_000, 'the short session to expire');
      expect(await stores.sessions.get('long')).toBe('{}');
    });
  });
}
