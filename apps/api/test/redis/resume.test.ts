import type { ChatMessage } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { ids, loadConfig, readHistory, startNodes } from './cluster-helpers.js';

const ROOM = 'resume';
const TOTAL = 200;

describe('resume across nodes under a live stream', () => {
  let redis: TestRedis | undefined;
  let nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    nodes = [];
    await redis?.stop();
  });

  it('a subscriber that drops from node A and comes back on node B with since ends with exactly the full sequence', async () => {
    redis = await startRedis();
    nodes = await startNodes(3, loadConfig(redis.url));
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const open = async (node: TestNode, since?: string): Promise<TestSocket> => {
      const socket = await TestSocket.open(node.url, ROOM, since === undefined ? {} : { since });
      sockets.push(socket);
      return socket;
    };
    const first = await open(a);
    const sender = await open(c);

    // The sender posts one message at a time, each once the previous one came back: a live
    // stream. At #100 it waits until the subscriber has left, so that some are surely missed; at
    // #150 until it is back on another node, so that #100-#149 come from history and the rest live.
    let left!: () => void;
    const subscriberLeft = new Promise<void>((resolve) => (left = resolve));
    let rejoined!: () => void;
    const subscriberBack = new Promise<void>((resolve) => (rejoined = resolve));
    const stream = (async () => {
      for (let n = 0; n < TOTAL; n += 1) {
        if (n === 100) await subscriberLeft;
        if (n === 150) await subscriberBack;
        sender.send({ type: 'chat.message', message: `live #${n}`, nonce: `n${n}` });
        await sender.waitFor((frame) => frame.type === 'chat.message' && frame.nonce === `n${n}`, `the copy of #${n}`, 20_000);
      }
    })();

    await first.waitForMessages(50, 30_000);
    await first.close();
    const before: ChatMessage[] = [...first.messages];
    // It may have taken in all of #0-#99 while its close handshake ran; the stream waits at #100.
    expect(before.length).toBeLessThanOrEqual(100);
    left();
    await sender.waitFor((frame) => frame.type === 'chat.message' && frame.nonce === 'n149', 'the copy of #149', 20_000);
    const second = await open(b, before.at(-1)!.id);
    rejoined();
    await stream;
    const after = await second.waitForMessages(TOTAL - before.length, 30_000);

    const recovered = await second.waitFor((frame) => frame.type === 'recovered', 'the recovered frame');
    expect(recovered).toEqual({ type: 'recovered', complete: true });
    // Some came from history, some live after it: the reconnection happened mid-stream.
    const recoveredAt = second.frames.indexOf(recovered);
    expect(second.frames.slice(0, recoveredAt).some((frame) => frame.type === 'chat.message')).toBe(true);
    expect(second.frames.slice(recoveredAt).some((frame) => frame.type === 'chat.message')).toBe(true);
    const whole = [...ids(before), ...ids(after)];
    expect(whole).toEqual(ids(await readHistory(b.url, ROOM)));
    expect(whole).toHaveLength(TOTAL);
    expect(new Set(whole).size).toBe(TOTAL);
    expect([...before, ...after].map((message) => message.message)).toEqual(Array.from({ length: TOTAL }, (_, n) => `live #${n}`));
  }, 120_000);
});
