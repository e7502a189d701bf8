import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { spawnServer, startRedis, type ServerProcess, type TestRedis } from '@roomcast/testing';
import type { Config } from '../../src/config.js';
import { TestSocket, UNLIMITED_SENDS, sleep, startNode, type TestNode } from '../helpers.js';

/**
 * Support for the hostile tests: each repeats an attack from one address on loopback against a
 * server in its own process (so its memory is its own), bounded in count and time.
 */

export const API_KEY = 'hostile-key-0123456789abcdef';
export type BackendKind = 'memory' | 'redis';

export interface HostileServer {
  server: ServerProcess;
  redis: TestRedis | undefined;
  stop(): Promise<void>;
}

export interface HostileNode {
  node: TestNode;
  redis: TestRedis | undefined;
  stop(): Promise<void>;
}

/** Starts what `start` makes on `kind`, with a redis-server of its own for Redis (stopped with it). */
async function onBackend<T extends { stop(): Promise<void> }>(
  kind: BackendKind,
  start: (redisUrl: string | undefined) => Promise<T>,
): Promise<T & { redis: TestRedis | undefined }> {
  const redis = kind === 'redis' ? await startRedis() : undefined;
  try {
    const started = await start(redis?.url);
    const stop = started.stop.bind(started);
    return Object.assign(started, {
      redis,
      async stop() {
        await stop();
        await redis?.stop();
      },
    });
  } catch (error) {
    await redis?.stop();
    throw error;
  }
}

/** The built server on `kind`, with `env` added; every client of these tests shares 127.0.0.1. */
export async function startServer(kind: BackendKind, env: Record<string, string>): Promise<HostileServer> {
  return onBackend(kind, async (redisUrl) => {
    const server = await spawnServer({
      MAX_CONNECTIONS_PER_IP: '0',
      SOCKET_RATE: '0',
      PUBLISH_RATE: '0',
      // The floods come from one address: per-address budgets would refuse them before they bite.
      IP_MESSAGE_RATE: '0',
      USER_MESSAGE_RATE: '0',
      CONNECT_RATE: '0',
      API_KEYS: `svc:${API_KEY}`,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
      ...env,
    });
    return { server, stop: () => server.stop() };
  });
}

/** An in-process node on `kind`, for tests that look inside it. */
export async function startKindNode(kind: BackendKind, overrides: Partial<Config> = {}): Promise<HostileNode> {
  return onBackend(kind, async (redisUrl) => {
    const node = await startNode({ maxConnectionsPerIp: 0, connectRate: 0, ...UNLIMITED_SENDS, ...(redisUrl ? { redisUrl } : {}), ...overrides });
    return { node, stop: () => node.close() };
  });
}

/** Resident memory of a process, in bytes (Linux). */
export function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
  if (!line) throw new Error(`no VmRSS for process ${pid}`);
  return Number(line[1]) * 1024;
}

/** CPU time a process has used so far, in ms (Linux; user + system). */
export function cpuMsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** Samples `pid`'s RSS every 100 ms until `stop` is called; resolves to the highest seen. */
export function watchRss(pid: number): { stop(): number } {
  let peak = rssOf(pid);
  const timer = setInterval(() => {
    // The process may be gone already (a failed test stopping it): the peak so far stands.
    if (existsSync(`/proc/${pid}/status`)) peak = Math.max(peak, rssOf(pid));
  }, 100);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(peak, rssOf(pid));
    },
  };
}

/** Posts `count` messages of `text(n)` to `room` over HTTP, a few at a time. */
export async function fillRoom(base: string, room: string, count: number, text: (n: number) => string, concurrency = 8): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const response = await fetch(`${base}/rooms/${room}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ message: text(n) }),
      });
      if (response.status !== 201) throw new Error(`posting #${n} answered ${response.status}: ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/**
 * A WebSocket upgrade to `path` written by hand on a raw TCP socket that then never reads a
 * byte: the attacker's socket. Nothing in it answers pings.
 */
export function silentUpgrade(port: number, path: string): Socket {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write(
      [
        `GET ${path} HTTP/1.1`,
        `Host: 127.0.0.1:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    socket.pause();
  });
  return socket;
}

/** The `q` quantile of `values` (nearest rank). */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/**
 * Chat latency in a room of two: `samples` messages, one every `gapMs`, each timed from send to
 * the other member receiving it. Returns every time, in ms, and how many were refused.
 */
export async function chatLatencies(base: string, room: string, samples: number, gapMs = 15): Promise<{ times: number[]; refused: number }> {
  const sender = await TestSocket.open(base, room);
  const receiver = await TestSocket.open(base, room);
  const sentAt = new Map<string, number>();
  // Nonces unique to this run: a nonce already used in the room would be taken for a resend.
  const run = randomBytes(4).toString('hex');
  const times: number[] = [];
  receiver.ws.on('message', (data) => {
    const text = data.toString();
    const match = /"message":"(probe-\d+)"/.exec(text);
    const at = match ? sentAt.get(match[1]!) : undefined;
    if (at !== undefined) times.push(performance.now() - at);
  });
  try {
    for (let n = 0; n < samples; n += 1) {
      const text = `probe-${n}`;
      sentAt.set(text, performance.now());
      sender.send({ type: 'chat.message', message: text, nonce: `${run}-${n}` });
      await sleep(gapMs);
    }
    const deadline = Date.now() + 15_000;
    while (times.length < samples && Date.now() < deadline) await sleep(20);
    const refused = sender.frames.filter((frame) => frame.type === 'error').length;
    if (times.length < samples) throw new Error(`only ${times.length} of ${samples} probes arrived (${refused} refused)`);
    return { times, refused };
  } finally {
    await Promise.allSettled([sender.close(), receiver.close()]);
  }
}

/** A counter in the server's /metrics. */
export async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${name} `));
  return line === undefined ? 0 : Number(line.slice(name.length + 1));
}
