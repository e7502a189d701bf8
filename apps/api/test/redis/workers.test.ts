import { get } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually } from '../helpers.js';
import { STORES, ids, spawnServer, type ServerProcess, type Store } from './cluster-helpers.js';

const ROOM = 'workers';

/** `/metrics` over a fresh connection (no keep-alive), so that node:cluster may hand it to any worker. */
function scrape(base: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = get(`${base}/metrics`, { agent: false, headers: { connection: 'close' }, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => (response.statusCode === 200 ? resolve(text) : reject(new Error(`/metrics answered ${response.statusCode}: ${text}`))));
    });
    request.on('timeout', () => request.destroy(new Error('/metrics timed out')));
    request.on('error', reject);
  });
}

const nodesIn = (text: string): string[] => [...text.matchAll(/^roomcast_backend_info\{backend="redis",node="([^"]+)"\} 1$/gm)].map((match) => match[1]!);
const valueIn = (text: string, name: string): number | undefined => {
  const value = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
};

/** The process IDs that logged the upgrade of a room socket (pino's `pid`, request lines at debug). */
function upgradePids(output: string): Set<number> {
  const pids = new Set<number>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: number; msg?: string; req?: { url?: string } };
    if (entry.msg === 'incoming request' && entry.req?.url?.startsWith('/ws/chat/') && entry.pid !== undefined) pids.add(entry.pid);
  }
  return pids;
}

describe.each(STORES)('WORKERS=2 on %s', (_, startStore) => {
  let redis: Store | undefined;
  let server: ServerProcess | undefined;
  const sockets: TestSocket[] = [];

  afterEach(async () => {
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await server?.kill();
    server = undefined;
    await redis?.stop();
    redis = undefined;
  });

  it('serves on one port from two worker processes, and messages cross between them', async () => {
    redis = await startStore();
    server = await spawnServer({ ...redis.env, WORKERS: '2', LOG_LEVEL: 'debug' });
    const base = server.url;
    // Whichever worker takes the scrape, it answers for both, once both have started.
    await eventually(async () => nodesIn(await scrape(base)).length === 2, 30_000, 'one scrape to name both workers');

    for (let n = 0; n < 6; n += 1) sockets.push(await TestSocket.open(base, ROOM));
    // node:cluster dealt the upgrades to both workers...
    expect(upgradePids(server.output()).size).toBe(2);
    // ...and any one scrape counts the sockets of both, with the default process metrics.
    for (let n = 0; n < 4; n += 1) {
      const text = await scrape(base);
      expect(nodesIn(text)).toHaveLength(2);
      expect(valueIn(text, 'roomcast_open_sockets')).toBe(6);
      expect(valueIn(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
      expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    }

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
