import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from '../../src/accounts/passwords.js';

describe('password hashing', () => {
  it('hashes with scrypt and a fresh salt each time, never storing the password', async () => {
    const password = 'correct horse battery staple';
    const first = await hashPassword(password);
    const second = await hashPassword(password);
    expect(first).toMatch(/^\$scrypt\$n=16384,r=8,p=5\$[\w-]{22}\$[\w-]{43}$/);
    expect(second).not.toBe(first);
    expect(first).not.toContain(password);
    expect(await verifyPassword(password, first)).toBe(true);
    expect(await verifyPassword(password, second)).toBe(true);
  });

  it('refuses a wrong password, a near miss and an empty one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    for (const attempt of ['wrong password', 'correct horse battery stapl', 'Correct horse battery staple', '']) {
      expect(await verifyPassword(attempt, stored), attempt).toBe(false);
    }
  });

  it('treats composed and decomposed accents as the same password (NFKC)', async () => {
    const stored = await hashPassword('caf\u00e9 au lait');
    expect(await verifyPassword('cafe\u0301 au lait', stored)).toBe(true);
  });

  it('matches nothing against a malformed or truncated hash', async () => {
    const stored = await hashPassword('correct horse battery staple');
    for (const bad of ['', 'plaintext', stored.replace('$scrypt$', '$bcrypt$'), stored.slice(0, stored.lastIndexOf('$') + 4)]) {
      expect(await verifyPassword('correct horse battery staple', bad), bad).toBe(false);
    }
  });
});
