import { afterEach, describe, expect, it } from 'vitest';
import { connected, redisClient } from '../backends.js';
import { TestSocket, eventually } from '../helpers.js';
import { startKindNode, type HostileNode } from './hostile-helpers.js';

const SOCKETS = 40;

/** Calls of each Redis command so far, from INFO commandstats. */
async function commandCalls(url: string): Promise<Map<string, number>> {
  const client = await connected(redisClient(url));
  try {
    const calls = new Map<string, number>();
    for (const match of (await client.info('commandstats')).matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls.set(match[1]!, Number(match[2]));
    return calls;
  } finally {
    client.disconnect();
  }
}

/**
 * After a node's subscription to Redis drops and comes back, every socket of a room catches up
 * from history. One read per room serves them all: before, each socket read alone, so a node
 * with thousands of sockets sent thousands of XRANGEs the moment Redis came back.
 */
describe('resync after a reconnect (redis)', () => {
  let target: HostileNode | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await target?.stop();
    target = undefined;
  });

  it(`${SOCKETS} sockets of one room catch up from one read, each with exactly what it missed`, async () => {
    target = await startKindNode('redis', { resumeRate: 0 });
    const { node, redis } = target;
    sockets.push(...(await Promise.all(Array.from({ length: SOCKETS }, () => TestSocket.open(node.url, 'shared')))));
    const history = node.app.backend.history;
    await history.append({ room: 'shared', user: null, message: 'before the gap' });
    await eventually(() => sockets.every((socket) => socket.messages.length === 1), 10_000, 'everyone has the first message');

    const before = await commandCalls(redis!.url);
    const admin = await connected(redisClient(redis!.url));
    try {
      // The node's subscriber connection is cut; messages stored meanwhile never reach it live.
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      for (let n = 0; n < 5; n += 1) await history.append({ room: 'shared', user: null, message: `in the gap ${n}` });
    } finally {
      admin.disconnect();
    }
    await eventually(() => sockets.every((socket) => socket.messages.length === 6), 15_000, 'everyone caught up');
    const after = await commandCalls(redis!.url);

    const stored = (await history.readAfter('shared', '0-0')).messages.map((message) => message.id);
    for (const socket of sockets) expect(socket.messages.map((message) => message.id)).toEqual(stored);
    const reads = (after.get('xrange') ?? 0) - (before.get('xrange') ?? 0);
    // One shared read (two if the resyncs straddled a turn), not one per socket.
    expect(reads, `${reads} XRANGE for ${SOCKETS} sockets`).toBeGreaterThanOrEqual(1);
    expect(reads, `${reads} XRANGE for ${SOCKETS} sockets`).toBeLessThanOrEqual(2);
  }, 60_000);
});
