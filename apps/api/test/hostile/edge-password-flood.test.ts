import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD_GATE_LIMITS } from '../../src/limits/password-gate.js';
import { PASSWORD, register } from '../auth-helpers.js';
import { startNode, type TestNode } from '../helpers.js';
import { edgeRefusals } from './edge-helpers.js';

/**
 * Finding: 300 concurrent logins (each with its own made-up address) queued 300 scrypt runs, and
 * a real login took 21 s instead of 171 ms; registration answered 409 in 2 ms and 201 in 171 ms,
 * which told anyone which names exist. The node here trusts one proxy hop, so the test can speak
 * for many clients from loopback, as a proxy in front of it would.
 */

interface Answer {
  status: number;
  ms: number;
  retryAfter: string | null;
}

async function attempt(node: TestNode, path: string, body: unknown, client: string): Promise<Answer> {
  const started = Date.now();
  const response = await fetch(`${node.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return { status: response.status, ms: Date.now() - started, retryAfter: response.headers.get('retry-after') };
}

const login = (node: TestNode, username: string, password: string, client: string): Promise<Answer> =>
  attempt(node, '/auth/login', { username, password }, client);

const REAL_USER = '203.0.113.50';

/**
 * How long a real login may take behind a flood. A hash costs ~100 ms on an idle core but over a
 * second on a loaded 2-core machine, and the flood's 300 requests take the event loop seconds to
 * read there: so the bound is the flood's own slowest refusal (the login arrives after all of it)
 * plus a few of the login's own unflooded time, measured just before (it waits for at most one
 * round of the flood's hashes, then runs its own).
 */
const realLoginBound = (slowestRefusalMs: number, unfloodedMs: number): number => slowestRefusalMs + 4 * unfloodedMs + 1000;
const slowest = (answers: Answer[]): number => Math.max(...answers.map((a) => a.ms));

describe('password hashing under a login flood', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('lets a real login through in time while 300 concurrent logins come from one address', async () => {
    node = await startNode({ trustProxy: 1 });
    await register(node, 'realuser', PASSWORD, { headers: { 'x-forwarded-for': REAL_USER } });
    const unflooded = await login(node, 'realuser', PASSWORD, REAL_USER);
    const flood = Array.from({ length: 300 }, (_, n) => login(node, `victim${n % 50}`, 'wrong password!', '198.51.100.66'));
    const real = await login(node, 'realuser', PASSWORD, REAL_USER);
    const answers = await Promise.all(flood);

    // The flood's address gets its share of the gate at once and its login burst at most; the rest is 429.
    const refused = answers.filter((a) => a.status === 429);
    expect(answers.length - refused.length).toBeLessThanOrEqual(30);
    expect(answers.every((a) => a.status === 401 || a.status === 429)).toBe(true);
    expect(real.status).toBe(200);
    expect(real.ms, 'real login behind the flood (ms)').toBeLessThan(realLoginBound(slowest(refused), unflooded.ms));
    expect(node.app.accounts.gate.peakRunning).toBeLessThanOrEqual(PASSWORD_GATE_LIMITS.concurrency);
  });

  it('bounds 300 concurrent logins from 300 addresses: a few hashed, the rest refused fast with 503 busy, and a real login still answers in time', async () => {
    node = await startNode({ trustProxy: 1 });
    await register(node, 'realuser', PASSWORD, { headers: { 'x-forwarded-for': REAL_USER } });
    const unflooded = await login(node, 'realuser', PASSWORD, REAL_USER);
    const started = Date.now();
    const flood = Array.from({ length: 300 }, (_, n) => login(node, `victim${n}`, 'wrong password!', `10.9.${n >> 8}.${n & 255}`));
    const real = await login(node, 'realuser', PASSWORD, REAL_USER);
    const answers = await Promise.all(flood);
    const floodMs = Date.now() - started;

    // Everything answered, and quickly: refusals do not wait for hashes.
    expect(answers.every((a) => a.status === 401 || a.status === 503)).toBe(true);
    const busy = answers.filter((a) => a.status === 503);
    const hashed = answers.length - busy.length;
    const { concurrency, queue, maxWaitMs } = PASSWORD_GATE_LIMITS;
    expect(busy.length).toBeGreaterThanOrEqual(300 - 4 * (concurrency + queue));
    expect(busy.every((a) => a.retryAfter === '1')).toBe(true);
    expect(await edgeRefusals(node.port)).toEqual({ password_gate_full: busy.length + (real.status === 503 ? 1 : 0) });
    expect(hashed).toBeGreaterThanOrEqual(concurrency);
    expect(node.app.accounts.gate.peakRunning).toBeLessThanOrEqual(concurrency);
    expect(floodMs, 'whole flood (ms)').toBeLessThan(30_000);
    // The real login is either served or told to retry, never left waiting behind 300 hashes: at
    // worst it waits its turn in the queue (maxWaitMs) on top of the usual bound.
    expect([200, 503]).toContain(real.status);
    expect(real.ms, 'real login behind the flood (ms)').toBeLessThanOrEqual(maxWaitMs + realLoginBound(slowest(busy), unflooded.ms));
    const retry = await login(node, 'realuser', PASSWORD, REAL_USER);
    expect(retry.status).toBe(200);
    expect(retry.ms).toBeLessThan(4 * unflooded.ms + 1000);
  });
});

describe('registration timing', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('answers a taken name (409) as slowly as a free one (201), within a factor of 2', async () => {
    node = await startNode({ trustProxy: 1 });
    for (let n = 0; n < 5; n += 1) await register(node, `taken${n}`, PASSWORD, { headers: { 'x-forwarded-for': `192.0.2.${n + 1}` } });
    const taken: number[] = [];
    const free: number[] = [];
    for (let n = 0; n < 5; n += 1) {
      const conflict = await attempt(node, '/auth/register', { username: `taken${n}`, password: PASSWORD }, `192.0.2.${n + 100}`);
      const created = await attempt(node, '/auth/register', { username: `fresh${n}`, password: PASSWORD }, `192.0.2.${n + 200}`);
      expect([conflict.status, created.status]).toEqual([409, 201]);
      taken.push(conflict.ms);
      free.push(created.ms);
    }
    const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    const ratio = median(taken) / median(free);
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});
