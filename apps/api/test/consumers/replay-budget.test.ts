import { describe, expect, it } from 'vitest';
import { ReplayBudget } from '../../src/consumers/replay-budget.js';

describe('replay budget per address', () => {
  it('lets one page of an address be read at a time, and none while its bytes in flight are at the cap', async () => {
    const budget = new ReplayBudget(100);
    const first = await budget.acquire('a', 1000);
    // While the first page is being read, the next waits its turn...
    let second: Awaited<ReturnType<ReplayBudget['acquire']>>;
    const secondTurn = budget.acquire('a', 1000).then((lease) => (second = lease));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second).toBeUndefined();
    // ...and gets it once the first is sent (80 of 100 in flight).
    first!.sent(80);
    await secondTurn;
    expect(second).toBeDefined();
    second!.sent(50);
    expect(budget.inFlight('a')).toBe(130);
    // Over the cap: a third waits until an acknowledgement frees bytes.
    let third: Awaited<ReturnType<ReplayBudget['acquire']>>;
    const thirdTurn = budget.acquire('a', 1000).then((lease) => (third = lease));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(third).toBeUndefined();
    // Another address is not held up by this one.
    const elsewhere = await budget.acquire('b', 1000);
    expect(elsewhere).toBeDefined();
    elsewhere!.done();
    first!.done();
    await thirdTurn;
    expect(budget.inFlight('a')).toBe(50);
    third!.done();
    second!.done();
    expect(budget.inFlight('a')).toBe(0);
  });

  it('gives up on a turn that does not come in time, and forgets an idle address', async () => {
    const budget = new ReplayBudget(100);
    const hog = await budget.acquire('a', 1000);
    hog!.sent(100);
    expect(await budget.acquire('a', 30)).toBeUndefined();
    hog!.done();
    expect(budget.inFlight('a')).toBe(0);
    const next = await budget.acquire('a', 30);
    expect(next).toBeDefined();
    next!.done();
    // Done twice changes nothing.
    next!.done();
    expect(budget.inFlight('a')).toBe(0);
  });
});
