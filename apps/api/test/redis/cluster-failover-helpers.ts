import type { ChatMessage, MessageState } from '@roomcast/protocol';
import { expect } from 'vitest';
import { TestSocket, eventually, sleep, type TestNode, type TestRedisCluster } from '../helpers.js';
import { ids, postMessage, readHistory } from './cluster-helpers.js';

/** What a stream of HTTP publishes got: the acknowledged messages, and the refusals by code. */
export interface StreamResult {
  acked: ChatMessage[];
  refused: Map<string, number>;
}

/**
 * Publishes to `room` from every node, one POST at a time per node, until `stop` resolves: a
 * live stream. Resolves with what was acknowledged (201) and what was refused.
 */
export async function liveStream(nodes: TestNode[], room: string, stop: Promise<unknown>, label: string): Promise<StreamResult> {
  const result: StreamResult = { acked: [], refused: new Map() };
  let stopped = false;
  void stop.then(() => (stopped = true));
  await Promise.all(
    nodes.map(async (node, n) => {
      for (let k = 0; !stopped; k += 1) {
        const answer = await postMessage(node.url, room, `${label} node ${n} #${k}`).catch(() => ({ status: 0, body: { code: 'network' } }));
        if (answer.status === 201) result.acked.push(answer.body as ChatMessage);
        else {
          const code = (answer.body as { code?: string }).code ?? String(answer.status);
          result.refused.set(code, (result.refused.get(code) ?? 0) + 1);
        }
        await sleep(5);
      }
    }),
  );
  return result;
}

/** Opens `perNode` sockets in `room` on every node. */
export async function subscribe(nodes: TestNode[], room: string, perNode: number): Promise<TestSocket[]> {
  const sockets: TestSocket[] = [];
  for (const node of nodes) for (let n = 0; n < perNode; n += 1) sockets.push(await TestSocket.open(node.url, room));
  return sockets;
}

/**
 * The promise of a failover test: every acknowledged message is in the history, and every
 * subscriber's sequence of message IDs equals the history (no gap, no duplicate), once the
 * sockets have caught up. Returns the history.
 */
export async function expectNothingLost(nodes: TestNode[], room: string, subscribers: TestSocket[], stream: StreamResult): Promise<MessageState[]> {
  let history: MessageState[] = [];
  await eventually(
    async () => {
      history = await readHistory(nodes[0]!.url, room).catch(() => []);
      const order = ids(history).join();
      return history.length > 0 && subscribers.every((socket) => ids(socket.messages).join() === order);
    },
    45_000,
    'every subscriber to hold the history, in its order',
  ).catch(() => undefined);
  const stored = new Set(ids(history));
  expect(stream.acked.filter((message) => !stored.has(message.id)).map((message) => message.message)).toEqual([]);
  for (const socket of subscribers) expect(ids(socket.messages)).toEqual(ids(history));
  return history;
}

/** Waits until `slot` is served by a master other than `before`, and the cluster is settled. */
export async function failedOver(cluster: TestRedisCluster, slot: number, before: number): Promise<number> {
  let now = before;
  try {
    await eventually(
      async () => {
        now = await cluster.masterOf(slot).catch(() => before);
        return now !== before;
      },
      45_000,
      `slot ${slot} to move off the master on port ${before}`,
    );
  } catch (error) {
    const live = cluster.nodes.find((node) => node.process !== undefined)!;
    throw new Error(`${(error as Error).message}; CLUSTER NODES:\n${await cluster.cli(live.port, 'CLUSTER', 'NODES')}`);
  }
  return now;
}
