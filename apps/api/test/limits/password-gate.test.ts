import { describe, expect, it } from 'vitest';
import { PasswordGate } from '../../src/limits/password-gate.js';

/** A check that finishes when the test says so. */
function pending(): { check: () => Promise<string>; finish: () => void; started: boolean } {
  let finish = (): void => undefined;
  const handle = {
    started: false,
    finish: () => finish(),
    check: () => {
      handle.started = true;
      return new Promise<string>((resolve) => (finish = () => resolve('done')));
    },
  };
  return handle;
}

/** Lets promise callbacks run: a started check begins on the next turn. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const codeOf = (promise: Promise<unknown>): Promise<string | undefined> =>
  promise.then(
    () => undefined,
    (error: { code?: string }) => error.code,
  );

describe('PasswordGate', () => {
  it('runs `concurrency` checks at once, queues the next in order, and refuses past the queue with busy', async () => {
    const gate = new PasswordGate({ concurrency: 2, queue: 2, maxWaitMs: 10_000, perClient: 10 });
    const checks = Array.from({ length: 4 }, pending);
    const runs = checks.map((check, n) => gate.run(`client${n}`, check.check));
    await settle();
    expect(checks.map((c) => c.started)).toEqual([true, true, false, false]);
    expect(await codeOf(gate.run('client9', async () => 'never'))).toBe('busy');
    checks[0]!.finish();
    await runs[0];
    await settle();
    expect(checks.map((c) => c.started)).toEqual([true, true, true, false]);
    for (const check of checks.slice(1)) {
      await settle();
      check.finish();
    }
    expect(await Promise.all(runs)).toEqual(['done', 'done', 'done', 'done']);
    expect(gate.peakRunning).toBe(2);
  });

  it('refuses a client past its share with rate_limited, and gives the share back when its checks end', async () => {
    const gate = new PasswordGate({ concurrency: 4, queue: 4, maxWaitMs: 10_000, perClient: 2 });
    const [a, b] = [pending(), pending()];
    const runs = [gate.run('flooder', a.check), gate.run('flooder', b.check)];
    await settle();
    expect(await codeOf(gate.run('flooder', async () => 'never'))).toBe('rate_limited');
    expect(await gate.run('someone else', async () => 'served')).toBe('served');
    a.finish();
    b.finish();
    await Promise.all(runs);
    expect(await gate.run('flooder', async () => 'again')).toBe('again');
  });

  it('refuses a check that waited maxWaitMs with busy, and the queue moves on without it', async () => {
    const gate = new PasswordGate({ concurrency: 1, queue: 4, maxWaitMs: 100, perClient: 10 });
    const first = pending();
    const running = gate.run('a', first.check);
    await settle();
    const started = Date.now();
    expect(await codeOf(gate.run('b', async () => 'late'))).toBe('busy');
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
    first.finish();
    await running;
    expect(await gate.run('c', async () => 'next')).toBe('next');
  });

  it('releases the slot when a check throws', async () => {
    const gate = new PasswordGate({ concurrency: 1, queue: 0, maxWaitMs: 100, perClient: 1 });
    await expect(gate.run('a', async () => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    expect(await gate.run('a', async () => 'fine')).toBe('fine');
  });
});
