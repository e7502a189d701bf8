import { afterEach, describe, expect, it } from 'vitest';
import { TypingTracker } from './typing.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TypingTracker', () => {
  let tracker: TypingTracker | undefined;
  afterEach(() => tracker?.dispose());

  it('lists a typist until their notice runs out', async () => {
    const seen: string[][] = [];
    tracker = new TypingTracker(60, (names) => seen.push(names));
    tracker.saw('alice');
    tracker.saw('bob');
    expect(seen.at(-1)).toEqual(['alice', 'bob']);
    await sleep(150);
    expect(seen.at(-1)).toEqual([]);
  });

  it('keeps a typist listed while their notices keep coming', async () => {
    const seen: string[][] = [];
    tracker = new TypingTracker(80, (names) => seen.push(names));
    tracker.saw('alice');
    for (let i = 0; i < 4; i += 1) {
      await sleep(40);
      tracker.saw('alice');
    }
    expect(seen).toEqual([['alice']]);
  });

  it('drops a typist at once when their message arrives, and only then', () => {
    const seen: string[][] = [];
    tracker = new TypingTracker(10_000, (names) => seen.push(names));
    tracker.saw('alice');
    tracker.saw('bob');
    tracker.stopped('alice');
    tracker.stopped('carol');
    expect(seen).toEqual([['alice'], ['alice', 'bob'], ['bob']]);
  });
});
