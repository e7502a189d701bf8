import { RoomClient, nodeWebSocketFactory, type NodeWebSocketConstructor } from '@roomcast/client';
import type { ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { API_KEY, ids, loadConfig, postMessage, readHistory, spawnServer, type ServerProcess } from '../redis/cluster-helpers.js';

const createSocket = nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor);
const serverEnv = (redis: TestRedis): Record<string, string> => ({
  REDIS_URL: redis.url,
  API_KEYS: `svc:${API_KEY}`,
  PUBLISH_RATE: '0',
  HISTORY_LIMIT: '10000',
  SESSION_SECRET: 'a-session-secret-for-tests-only-0123456789',
});

describe('node faults on the Redis backend', () => {
  let redis: TestRedis | undefined;
  const servers: ServerProcess[] = [];
  const nodes: TestNode[] = [];
  const clients: RoomClient[] = [];

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await Promise.all(nodes.splice(0).map((node) => node.close()));
    await Promise.all(servers.splice(0).map((server) => server.kill()));
    await redis?.stop();
    redis = undefined;
  });

  it('SIGTERM under load: every socket hears 1012, the process exits within 10 s, nothing acknowledged is lost', async () => {
    redis = await startRedis({ appendonly: true });
    const server = await spawnServer(serverEnv(redis));
    servers.push(server);
    const sockets = await Promise.all(Array.from({ length: 20 }, () => TestSocket.open(server.url, 'term')));

    // Publishers keep posting; every 201 is a message the server acknowledged.
    const acknowledged: string[] = [];
    let stop = false;
    const publishers = Array.from({ length: 4 }, async (_, p) => {
      for (let i = 0; !stop && i < 5000; i += 1) {
        const result = await postMessage(server.url, 'term', `p${p}-${i}`).catch(() => undefined);
        if (result?.status === 201) acknowledged.push((result.body as ChatMessage).id);
        else if (result === undefined) return; // the server is gone
      }
    });
    await eventually(() => acknowledged.length >= 100, 20_000, '100 acknowledged messages');

    const started = Date.now();
    server.process.kill('SIGTERM');
    const codes = await Promise.all(sockets.map((socket) => socket.closed.then((closed) => closed.code)));
    await server.kill('SIGTERM');
    const exitedAfter = Date.now() - started;
    stop = true;
    await Promise.all(publishers);

    expect(new Set(codes)).toEqual(new Set([1012]));
    expect(server.process.exitCode).toBe(0);
    expect(exitedAfter).toBeLessThan(10_000);
    const reader = await startNode(loadConfig(redis.url));
    nodes.push(reader);
    const stored = new Set(ids(await readHistory(reader.url, 'term')));
    expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
  });

  it('a node killed with SIGKILL mid-stream: its clients move to the other node and end with the full sequence', async () => {
    redis = await startRedis();
    const [a, b] = [await spawnServer(serverEnv(redis)), await spawnServer(serverEnv(redis))];
    servers.push(a!, b!);
    let aAlive = true;
    const received = new Map<RoomClient, ChatMessage[]>();
    for (let i = 0; i < 10; i += 1) {
      // Half start on A. After A dies, every (re)connect goes to B.
      const onA = i % 2 === 0;
      const client = new RoomClient({
        url: () => (onA && aAlive ? a!.url : b!.url),
        room: 'failover',
        createSocket,
        reconnectDelay: () => 100,
      });
      const log: ChatMessage[] = [];
      received.set(client, log);
      client.on('message', (message) => log.push(message));
      const joined = new Promise((resolve) => client.on('presence', resolve));
      client.connect();
      await joined;
      clients.push(client);
    }

    let posted = 0;
    const publisher = (async () => {
      for (; posted < 300; posted += 1) {
        const result = await postMessage(b!.url, 'failover', `m${posted}`);
        expect(result.status).toBe(201);
        if (posted === 100) {
          aAlive = false;
          await a!.kill('SIGKILL');
        }
        await sleep(5);
      }
    })();
    await publisher;

    const history = ids(await readHistory(b!.url, 'failover'));
    expect(history).toHaveLength(300);
    for (const log of received.values()) {
      await eventually(() => log.length >= 300, 20_000, `300 messages at a client (has ${log.length})`);
      expect(ids(log)).toEqual(history);
    }
  });

  it('an Idempotency-Key replayed on another node returns the same ID and stores nothing new', async () => {
    redis = await startRedis();
    nodes.push(await startNode(loadConfig(redis.url)), await startNode(loadConfig(redis.url)));
    const post = (node: TestNode, key: string) =>
      fetch(`${node.url}/rooms/ledger/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, 'idempotency-key': key },
        body: JSON.stringify({ message: `entry ${key}` }),
      }).then(async (response) => ({ status: response.status, body: (await response.json()) as ChatMessage }));

    const first = await post(nodes[0]!, 'order-1');
    const replay = await post(nodes[1]!, 'order-1');
    expect(first.status).toBe(201);
    expect(replay).toEqual(first);

    // Racing on both nodes at once: still one message.
    const racing = await Promise.all(Array.from({ length: 8 }, (_, i) => post(nodes[i % 2]!, 'order-2')));
    expect(new Set(racing.map((result) => result.body.id)).size).toBe(1);

    const history = await readHistory(nodes[0]!.url, 'ledger');
    expect(history.map((message) => message.message)).toEqual(['entry order-1', 'entry order-2']);
  });
});
