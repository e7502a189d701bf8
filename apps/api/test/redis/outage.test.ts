import type { ChatMessage, ErrorFrame } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { connected, redisClient } from '../backends.js';
import { TestSocket, eventually, sleep, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { ids, loadConfig, postMessage, readHistory, startNodes } from './cluster-helpers.js';

const ROOM = 'outage';
/** The stream stops after this many sends whatever happens: every loop is bounded. */
const MAX_SENDS = 3000;

const readyStatus = async (base: string): Promise<number> =>
  (await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(5000) })).status;

describe('Redis killed and restarted during a stream', () => {
  let redis: TestRedis | undefined;
  let nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    nodes = [];
    await redis?.stop();
  });

  it('answers 503 on /readyz and refuses sends while Redis is away, then loses and doubles nothing', async () => {
    redis = await startRedis({ appendonly: true });
    nodes = await startNodes(2, loadConfig(redis.url));
    const [a, b] = nodes as [TestNode, TestNode];
    const open = async (node: TestNode): Promise<TestSocket> => {
      const socket = await TestSocket.open(node.url, ROOM);
      sockets.push(socket);
      return socket;
    };
    const subscribers: TestSocket[] = [];
    for (const node of nodes) for (let n = 0; n < 3; n += 1) subscribers.push(await open(node));
    const socketSender = await open(b);

    // Every send ends one way or another: acknowledged (HTTP 201 / the sender's own copy),
    // refused with the sender told (HTTP 503 / an error frame carrying its nonce): `unavailable`
    // when nothing was stored, `unconfirmed` for the one in flight when Redis died (it may be).
    const acknowledged = new Map<string, string>(); // text → ID
    const refused = { http: 0, socket: 0 };
    const notStored = new Set<string>();
    const refusal = (code: unknown, text: string): void => {
      expect(['unavailable', 'unconfirmed']).toContain(code);
      if (code === 'unavailable') notStored.add(text);
    };
    let stop = false;
    const sendOverSocket = async (text: string, nonce: string): Promise<void> => {
      socketSender.send({ type: 'chat.message', message: text, nonce });
      const answer = await socketSender.waitFor(
        (frame) => (frame.type === 'chat.message' && frame.message === text) || (frame.type === 'error' && frame.nonce === nonce),
        `an answer to ${nonce}`,
        15_000,
      );
      if (answer.type === 'chat.message') acknowledged.set(text, (answer as ChatMessage).id);
      else {
        expect(answer).toMatchObject({ type: 'error', nonce } satisfies Partial<ErrorFrame>);
        refusal((answer as ErrorFrame).code, text);
        refused.socket += 1;
      }
    };
    const sendOverHttp = async (node: TestNode, text: string): Promise<void> => {
      const { status, body } = await postMessage(node.url, ROOM, text);
      if (status === 201) acknowledged.set(text, (body as ChatMessage).id);
      else {
        expect(status).toBe(503);
        refusal((body as { code?: unknown }).code, text);
        refused.http += 1;
      }
    };
    const stream = (async () => {
      for (let n = 0; n < MAX_SENDS && !stop; n += 1) {
        if (n % 2 === 0) await sendOverSocket(`socket #${n}`, `n${n}`);
        else await sendOverHttp(nodes[n % 4 === 1 ? 0 : 1]!, `http #${n}`);
        await sleep(5);
      }
    })();

    await eventually(() => acknowledged.size >= 40, 30_000, '40 acknowledged messages before the outage');
    await redis.kill('SIGKILL');
    for (const node of nodes) await eventually(async () => (await readyStatus(node.url)) === 503, 15_000, '/readyz to answer 503');
    await eventually(() => refused.http >= 3 && refused.socket >= 3, 30_000, 'refused sends over HTTP and over the socket');

    await redis.restart();
    for (const node of nodes) await eventually(async () => (await readyStatus(node.url)) === 200, 30_000, '/readyz to answer 200 again');
    const atRecovery = acknowledged.size;
    await eventually(() => acknowledged.size >= atRecovery + 40, 30_000, '40 acknowledged messages after the outage');
    stop = true;
    await stream;

    const history = await readHistory(a.url, ROOM);
    const stored = ids(history);
    expect(new Set(stored).size).toBe(stored.length);
    expect(ids(await readHistory(b.url, ROOM))).toEqual(stored);
    // Nothing acknowledged was lost: each is stored under the ID its sender was given.
    const storedText = new Map(history.map((message) => [message.id, message.message]));
    for (const [text, id] of acknowledged) expect(storedText.get(id)).toBe(text);
    // And nothing refused as `unavailable` ("nothing was stored") was stored.
    const storedTexts = new Set(storedText.values());
    expect([...notStored].filter((text) => storedTexts.has(text))).toEqual([]);
    expect(notStored.size).toBeGreaterThanOrEqual(3);
    // Every subscriber, on both nodes, ends with exactly the stored sequence: gaps caught up, nothing doubled.
    for (const subscriber of subscribers) {
      await eventually(() => subscriber.messages.length >= stored.length, 30_000, `${stored.length} messages at a subscriber`);
      await sleep(100);
      expect(ids(subscriber.messages)).toEqual(stored);
    }
    for (const node of nodes) expect(node.app.metrics.redisReconnects).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('catches sockets up from history when their node’s subscription drops while others keep publishing', async () => {
    redis = await startRedis();
    nodes = await startNodes(2, loadConfig(redis.url));
    const [a, b] = nodes as [TestNode, TestNode];
    const watchers = [await TestSocket.open(a.url, ROOM), await TestSocket.open(a.url, ROOM)];
    sockets.push(...watchers);
    const admin = await connected(redisClient(redis.url));
    try {
      // B publishes without pause while every subscriber connection is cut, again and again:
      // what is published before a node has resubscribed never reaches it live.
      let stop = false;
      let sent = 0;
      const stream = (async () => {
        for (let n = 0; n < MAX_SENDS && !stop; n += 1) {
          const { status } = await postMessage(b.url, ROOM, `gap #${n}`);
          expect(status).toBe(201);
          sent += 1;
        }
      })();
      for (let cut = 0; cut < 3; cut += 1) {
        const target = sent + 30;
        await eventually(() => sent >= target, 30_000, 'messages between the cuts');
        await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
        await eventually(() => a.app.metrics.redisReconnects === cut + 1, 30_000, 'node A to resubscribe');
      }
      const target = sent + 30;
      await eventually(() => sent >= target, 30_000, 'messages after the last cut');
      stop = true;
      await stream;

      const stored = ids(await readHistory(a.url, ROOM));
      expect(stored).toHaveLength(sent);
      for (const watcher of watchers) {
        await eventually(() => watcher.messages.length >= stored.length, 30_000, `${stored.length} messages at a watcher`);
        await sleep(100);
        expect(ids(watcher.messages)).toEqual(stored);
      }
    } finally {
      admin.disconnect();
    }
  }, 120_000);
});
