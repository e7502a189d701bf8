import type { ChatMessage } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { ids, loadConfig, postMessage, readHistory, startNodes } from './cluster-helpers.js';

const ROOM = 'cluster';
const SUBSCRIBERS_PER_NODE = 10;
const SOCKET_SENDERS_PER_NODE = 4;
const MESSAGES_PER_SOCKET_SENDER = 100; // 3 × 4 × 100 = 1,200 over sockets
const HTTP_MESSAGES_PER_NODE = 100; //      3 × 100     =   300 over HTTP
const TOTAL = 3 * SOCKET_SENDERS_PER_NODE * MESSAGES_PER_SOCKET_SENDER + 3 * HTTP_MESSAGES_PER_NODE;

describe('three nodes sharing one Redis', () => {
  let redis: TestRedis | undefined;
  let nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    nodes = [];
    await redis?.stop();
  });

  it('gets 1,500 messages from senders on every node to 30 subscribers on every node, in one order, the stored one', async () => {
    redis = await startRedis();
    nodes = await startNodes(3, loadConfig(redis.url));
    const open = async (node: TestNode): Promise<TestSocket> => {
      const socket = await TestSocket.open(node.url, ROOM);
      sockets.push(socket);
      return socket;
    };
    const subscribers: TestSocket[] = [];
    for (const node of nodes) for (let n = 0; n < SUBSCRIBERS_PER_NODE; n += 1) subscribers.push(await open(node));
    const senders: TestSocket[] = [];
    for (const node of nodes) for (let n = 0; n < SOCKET_SENDERS_PER_NODE; n += 1) senders.push(await open(node));

    // Every sender fires all its messages at once; HTTP posts run alongside, a few at a time per node.
    senders.forEach((sender, s) => {
      for (let n = 0; n < MESSAGES_PER_SOCKET_SENDER; n += 1) sender.send({ type: 'chat.message', message: `socket ${s} #${n}`, nonce: `${s}-${n}` });
    });
    const posts = nodes.map(async (node, s) => {
      for (let n = 0; n < HTTP_MESSAGES_PER_NODE; n += 5) {
        const batch = Array.from({ length: 5 }, (_, k) => postMessage(node.url, ROOM, `http ${s} #${n + k}`));
        for (const { status } of await Promise.all(batch)) expect(status).toBe(201);
      }
    });
    await Promise.all(posts);

    const received = await Promise.all(subscribers.map((socket) => socket.waitForMessages(TOTAL, 90_000)));
    const order = ids(received[0]!);
    expect(order).toHaveLength(TOTAL);
    expect(new Set(order).size).toBe(TOTAL);
    for (const messages of received) expect(ids(messages)).toEqual(order);

    // Every message sent is there once, and each sender's messages keep the order it sent them in.
    const texts = received[0]!.map((message) => message.message);
    expect(new Set(texts).size).toBe(TOTAL);
    const bySender = new Map<string, number[]>();
    for (const text of texts) {
      const [, origin, n] = /^(.+) #(\d+)$/.exec(text)!;
      bySender.set(origin!, [...(bySender.get(origin!) ?? []), Number(n)]);
    }
    expect(bySender.size).toBe(3 * SOCKET_SENDERS_PER_NODE + 3);
    for (const sequence of bySender.values()) expect(sequence).toEqual([...sequence].sort((a, b) => a - b));

    // The order everyone saw is the stored order, on every node's HTTP history.
    for (const node of nodes) expect(ids(await readHistory(node.url, ROOM))).toEqual(order);

    // Senders got their own copies with their nonce, and no one else's nonce.
    await Promise.all(senders.map((socket) => socket.waitForMessages(TOTAL, 30_000)));
    senders.forEach((sender, s) => {
      const own = sender.messages.filter((message: ChatMessage) => message.message.startsWith(`socket ${s} #`));
      expect(own.map((message) => message.nonce)).toEqual(own.map((_, n) => `${s}-${n}`));
      expect(sender.messages.filter((message) => message.nonce !== undefined)).toHaveLength(MESSAGES_PER_SOCKET_SENDER);
    });
  }, 180_000);
});
