import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startNode, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full collection (twice: finalizers free more on the second pass). */
async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(50);
  }
  return process.memoryUsage().heapUsed;
}

const validFrames = [
  '{"message":"hello"}',
  '{"type":"chat.message","message":"hi","nonce":"n-1"}',
  '{"type":"typing"}',
];

/** Random frames: strings, JSON values, and valid frames mutated by flips, cuts and splices. */
const frameArbitrary: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value) ?? 'null'),
  fc.record({
    type: fc.oneof(fc.constant('chat.message'), fc.constant('typing'), fc.string({ maxLength: 12 }), fc.integer()),
    message: fc.oneof(fc.string({ maxLength: 300 }), fc.integer(), fc.constant(null), fc.array(fc.string())),
    nonce: fc.oneof(fc.string({ maxLength: 200 }), fc.integer(), fc.constant(undefined)),
  }).map((frame) => JSON.stringify(frame)),
  fc
    .tuple(fc.constantFrom(...validFrames), fc.nat(), fc.nat(), fc.string({ maxLength: 8 }))
    .map(([frame, at, length, splice]) => {
      const start = at % frame.length;
      return frame.slice(0, start) + splice + frame.slice(start + (length % 5));
    }),
  fc.uint8Array({ maxLength: 100 }).map((bytes) => Buffer.from(bytes)),
  fc.nat({ max: 2000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
);

describe('socket-level fuzz', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('takes 10,000 random and mutated frames while a watcher loses nothing, and memory settles back', async () => {
    // A short history, filled before the baseline: what it keeps by design is then already counted.
    node = await startNode({ ...UNLIMITED_SENDS, historyLimit: 100 });
    const watcher = await TestSocket.open(node.url, 'fuzz');
    const poster = await TestSocket.open(node.url, 'fuzz');
    const frames = fc.sample(frameArbitrary, { numRuns: 10_000, seed: 42 });

    // Warm up the same paths so the baseline includes what stays (compiled code, caches, a full history).
    const warm = await TestSocket.open(node.url, 'fuzz');
    for (const frame of fc.sample(frameArbitrary, { numRuns: 300, seed: 1 })) warm.ws.send(frame);
    for (let i = 0; i < 150; i += 1) warm.send({ message: `warm ${i}` });
    await warm.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'warm 149', 'warm-up done');
    await warm.close();
    watcher.frames.length = 0;
    watcher.raw.length = 0;
    const baseline = await settledHeap();

    let posted = 0;
    let sent = 0;
    for (let round = 0; round < 10; round += 1) {
      const fuzzers = await Promise.all([0, 1, 2, 3].map(() => TestSocket.open(node.url, 'fuzz')));
      for (let i = 0; i < 1000; i += 1) {
        const fuzzer = fuzzers[i % fuzzers.length]!;
        if (fuzzer.ws.readyState === WebSocket.OPEN) fuzzer.ws.send(frames[sent]!);
        sent += 1;
        if (i % 100 === 0) {
          poster.send({ message: `steady ${posted}` });
          posted += 1;
        }
      }
      await Promise.all(fuzzers.map((fuzzer) => fuzzer.close()));
    }
    expect(sent).toBe(10_000);

    // The watcher got every steady message, in order, among the fuzzers' valid chat frames.
    await eventually(() => watcher.messages.filter((m) => m.message.startsWith('steady ')).length === posted, 15_000, 'steady messages');
    const steady = watcher.messages.filter((m) => m.message.startsWith('steady ')).map((m) => m.message);
    expect(steady).toEqual(Array.from({ length: posted }, (_, i) => `steady ${i}`));
    expect((await fetch(`${node.url}/healthz`)).status).toBe(200);
    await eventually(() => node.app.consumers.size === 2, 5000, 'fuzzers gone');

    // The test's own records of what it received are not the server's memory.
    watcher.frames.length = 0;
    watcher.raw.length = 0;
    poster.frames.length = 0;
    poster.raw.length = 0;
    const after = await settledHeap();
    expect(after, `heap after GC: ${baseline} bytes before, ${after} after`).toBeLessThan(baseline * 1.1);
    await Promise.all([watcher.close(), poster.close()]);
  });
});
