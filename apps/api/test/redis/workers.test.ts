import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, startRedis, type TestRedis } from '../helpers.js';
import { ids, spawnServer, type ServerProcess } from './cluster-helpers.js';

const ROOM = 'workers';

/** `/metrics` over a fresh connection (no keep-alive), so that node:cluster may hand it to any worker. */
function scrape(base: string): Promise<{ node: string; openSockets: number }> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}/metrics`, { agent: false, headers: { connection: 'close' }, timeout: 5000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const node = /roomcast_backend_info\{backend="redis",node="([^"]+)"\}/.exec(text)?.[1];
        const open = /^roomcast_open_sockets (\d+)$/m.exec(text)?.[1];
        if (node === undefined || open === undefined) reject(new Error(`unexpected /metrics: ${text.slice(0, 300)}`));
        else resolve({ node, openSockets: Number(open) });
      });
    });
    request.on('timeout', () => request.destroy(new Error('/metrics timed out')));
    request.on('error', reject);
  });
}

/** Scrapes until every one of `count` workers has answered (bounded); the latest answer of each. */
async function scrapeWorkers(base: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let attempt = 0; attempt < 40 && seen.size < count; attempt += 1) {
    const { node, openSockets } = await scrape(base);
    seen.set(node, openSockets);
  }
  return seen;
}

describe('WORKERS=2 with REDIS_URL', () => {
  let redis: TestRedis | undefined;
  let server: ServerProcess | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await server?.kill();
    server = undefined;
    await redis?.stop();
  });

  it('serves on one port from two worker processes, and messages cross between them', async () => {
    redis = await startRedis();
    server = await spawnServer({ REDIS_URL: redis.url, WORKERS: '2' });
    const base = server.url;
    await eventually(async () => (await scrapeWorkers(base, 2)).size === 2, 30_000, 'both workers to answer');

    for (let n = 0; n < 6; n += 1) sockets.push(await TestSocket.open(base, ROOM));
    const perWorker = await scrapeWorkers(base, 2);
    expect(perWorker.size).toBe(2);
    // Each worker holds some of the sockets, so a message reaching all of them crossed workers.
    for (const openSockets of perWorker.values()) expect(openSockets).toBeGreaterThanOrEqual(1);
    expect([...perWorker.values()].reduce((sum, count) => sum + count, 0)).toBe(6);

    sockets.forEach((socket, n) => socket.send({ message: `from socket ${n}` }));
    const received = await Promise.all(sockets.map((socket) => socket.waitForMessages(6, 20_000)));
    for (const messages of received) expect(ids(messages)).toEqual(ids(received[0]!));
    expect(received[0]!.map((message) => message.message).sort()).toEqual(sockets.map((_, n) => `from socket ${n}`).sort());

    // SIGTERM to the primary stops the workers gracefully (sockets hear 1012) and exits cleanly.
    const closes = sockets.map((socket) => socket.closed);
    await server.kill('SIGTERM');
    expect(server.process.exitCode).toBe(0);
    for (const { code } of await Promise.all(closes)) expect(code).toBe(1012);
  }, 90_000);
});
