import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RoomClient, nodeWebSocketFactory, type NodeWebSocketConstructor } from '@roomcast/client';
import type { ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { eventually, sleep, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { ids, loadConfig, readHistory } from '../redis/cluster-helpers.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const createSocket = nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor);

const USERS = 200;
const ROOMS = ['churn-a', 'churn-b', 'churn-c', 'churn-d'];
const DURATION_MS = 60_000;

const random = (min: number, max: number): number => min + Math.random() * (max - min);
const activeHandles = (): number => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

async function settledHeap(): Promise<number> {
  for (let i = 0; i < 3; i += 1) {
    gc();
    await sleep(100);
  }
  return process.memoryUsage().heapUsed;
}

interface User {
  room: string;
  received: ChatMessage[];
  sessions: number;
  sent: number;
}

/** One person: joins a random node, chats a little, leaves, comes back resuming where they left off. */
async function live(user: User, nodes: TestNode[], deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const node = nodes[Math.floor(Math.random() * nodes.length)]!;
    const lastId = user.received.at(-1)?.id;
    const client = new RoomClient({
      url: node.url,
      room: user.room,
      createSocket,
      reconnectDelay: () => 100,
      ...(lastId === undefined ? {} : { since: lastId }),
    });
    client.on('message', (message) => user.received.push(message));
    const joined = new Promise<void>((resolve) => client.on('presence', () => resolve()));
    client.connect();
    user.sessions += 1;
    await joined;
    const stayUntil = Math.min(deadline, Date.now() + random(500, 4000));
    while (Date.now() < stayUntil) {
      await sleep(random(500, 5000));
      if (Date.now() >= stayUntil) break;
      client.send(`u${user.room}-${user.sent}`).confirmed.catch(() => undefined);
      user.sent += 1;
    }
    client.close();
    await sleep(random(0, 1000));
  }
}

describe('churn over two nodes', () => {
  let redis: TestRedis | undefined;
  const nodes: TestNode[] = [];
  afterAll(async () => {
    await Promise.all(nodes.map((node) => node.close()));
    await redis?.stop();
  });

  it('200 clients connecting, chatting and leaving at random for 60 s: every sequence matches history, and everything is released', async () => {
    redis = await startRedis();
    nodes.push(await startNode(loadConfig(redis.url)), await startNode(loadConfig(redis.url)));

    // Five seconds of the same churn first, so compiled code and pools made on first use are in
    // the baseline: what must come back is what the clients held, not what the first one built.
    const warmUsers: User[] = Array.from({ length: 40 }, (_, i) => ({ room: `warm-${i % 2}`, received: [], sessions: 0, sent: 0 }));
    const warmDeadline = Date.now() + 5000;
    await Promise.all(warmUsers.map((user) => live(user, nodes, warmDeadline)));
    await eventually(() => nodes.every((node) => node.app.consumers.size === 0), 10_000, 'warm-up sockets released');
    warmUsers.length = 0;
    const handlesBefore = activeHandles();
    const heapBefore = await settledHeap();

    const users: User[] = Array.from({ length: USERS }, (_, i) => ({ room: ROOMS[i % ROOMS.length]!, received: [], sessions: 0, sent: 0 }));
    const deadline = Date.now() + DURATION_MS;
    await Promise.all(users.map((user) => live(user, nodes, deadline)));

    // Everyone has left: no socket, no group member, no presence is left behind on either node.
    await eventually(() => nodes.every((node) => node.app.consumers.size === 0 && node.app.websocketServer.clients.size === 0), 10_000, 'sockets released');
    for (const node of nodes) {
      for (const room of ROOMS) expect(node.app.backend.layer.localGroupSize(roomGroup(room))).toBe(0);
    }
    await eventually(async () => (await nodes[0]!.app.backend.presence.rooms()).filter((r) => ROOMS.includes(r.room)).length === 0, 10_000, 'presence empty');

    let totalSessions = 0;
    let totalSent = 0;
    for (const room of ROOMS) {
      const history = ids(await readHistory(nodes[0]!.url, room));
      expect(history.length).toBeGreaterThan(100);
      for (const user of users.filter((candidate) => candidate.room === room)) {
        totalSessions += user.sessions;
        totalSent += user.sent;
        const received = ids(user.received);
        if (received.length === 0) continue;
        const start = history.indexOf(received[0]!);
        expect(start).toBeGreaterThanOrEqual(0);
        // Across all its sessions, a user saw one contiguous stretch of the room: no gap, no duplicate.
        expect(received).toEqual(history.slice(start, start + received.length));
      }
    }
    expect(totalSessions).toBeGreaterThan(USERS * 3);
    expect(totalSent).toBeGreaterThan(500);

    for (const user of users) user.received.length = 0;
    await eventually(() => activeHandles() <= handlesBefore + 2, 10_000, `handles back to ${handlesBefore} (now ${activeHandles()})`);
    const heapAfter = await settledHeap();
    expect(heapAfter, `heap after GC: ${heapBefore} before, ${heapAfter} after`).toBeLessThan(heapBefore * 1.2);
  }, 150_000);
});
