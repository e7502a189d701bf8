import { afterEach, describe, expect, it } from 'vitest';
import { AUTH_LIMITS } from '../../src/routes/auth.js';
import { PASSWORD, call, login, register } from '../auth-helpers.js';
import { startNode, type TestNode } from '../helpers.js';

describe('auth rate limits (brute force)', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('refuses a 20-guess attack on one user with 429 before the 20th guess, while another user logs in', async () => {
    node = await startNode();
    await register(node, 'victim');
    await register(node, 'bystander');

    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let guess = 0; guess < 20; guess += 1) {
      const result = await call(node, 'POST', '/auth/login', { username: 'victim', password: `guess number ${guess}` });
      statuses.push(result.status);
      if (result.status === 429) {
        retryAfter ??= result.headers.get('retry-after');
        expect(result.body).toMatchObject({ code: 'rate_limited' });
      }
    }
    const firstRefusal = statuses.indexOf(429);
    expect(firstRefusal).toBeGreaterThan(0);
    expect(firstRefusal).toBeLessThan(19);
    expect(statuses.slice(0, firstRefusal).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(firstRefusal).every((status) => status === 429)).toBe(true);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);

    // The right password does not get through the limit either: the attacker cannot find it by trying on.
    expect((await call(node, 'POST', '/auth/login', { username: 'VICTIM', password: PASSWORD })).status).toBe(429);
    // Another user, from the same address, logs in normally.
    expect(await login(node, 'bystander')).toMatch(/^roomcast_session=/);
  });

  it('limits one user’s guesses across many addresses (per username)', async () => {
    node = await startNode({ trustProxy: 1 });
    await register(node, 'victim');
    const statuses: number[] = [];
    for (let guess = 0; guess <= AUTH_LIMITS.loginPerUsername.burst; guess += 1) {
      const headers = { 'x-forwarded-for': `198.51.100.${guess + 1}` };
      statuses.push((await call(node, 'POST', '/auth/login', { username: 'victim', password: `guess number ${guess}` }, { headers })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
  });

  it('limits one address’s attempts across many usernames (per IP)', async () => {
    node = await startNode({ trustProxy: 1 });
    const attacker = { 'x-forwarded-for': '203.0.113.7' };
    const statuses: number[] = [];
    // Malformed names are refused without a hash, but still count against the address.
    for (let attempt = 0; attempt <= AUTH_LIMITS.loginPerIp.burst; attempt += 1) {
      statuses.push((await call(node, 'POST', '/auth/login', { username: `?${attempt}`, password: PASSWORD }, { headers: attacker })).status);
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    // Someone else, elsewhere, is not affected.
    const other = await call(node, 'POST', '/auth/register', { username: 'newcomer', password: PASSWORD }, { headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(other.status).toBe(201);
  });

  it('limits registrations per address', async () => {
    node = await startNode({ trustProxy: 1 });
    const headers = { 'x-forwarded-for': '203.0.113.9' };
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= AUTH_LIMITS.registerPerIp.burst; attempt += 1) {
      // Malformed names cost no hash but count against the address.
      statuses.push((await call(node, 'POST', '/auth/register', { username: `?${attempt}`, password: PASSWORD }, { headers })).status);
    }
    expect(statuses.slice(0, -1).every((status) => status === 400)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    const elsewhere = await call(node, 'POST', '/auth/register', { username: 'newcomer', password: PASSWORD }, { headers: { 'x-forwarded-for': '192.0.2.1' } });
    expect(elsewhere.status).toBe(201);
  });

  it('limits registration attempts per username', async () => {
    node = await startNode({ trustProxy: 1 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt <= AUTH_LIMITS.registerPerUsername.burst; attempt += 1) {
      const headers = { 'x-forwarded-for': `198.51.100.${attempt + 1}` };
      statuses.push((await call(node, 'POST', '/auth/register', { username: 'popular', password: PASSWORD }, { headers })).status);
    }
    expect(statuses[0]).toBe(201);
    expect(statuses.slice(1, -1).every((status) => status === 409)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
  });
});
