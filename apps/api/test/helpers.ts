import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerFrame, type ChatMessage, type ServerFrame } from '@roomcast/protocol';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApp, type BuildOptions } from '../src/app.js';
import { testConfig, type Config } from '../src/config.js';

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await sleep(25);
  }
}

// ---------------------------------------------------------------- nodes

export interface TestNode {
  app: FastifyInstance;
  config: Config;
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds an app for `overrides` and listens on a free port of 127.0.0.1: one node of a cluster. */
export async function startNode(overrides: Partial<Config> = {}, options: BuildOptions = {}): Promise<TestNode> {
  const config = testConfig({ host: '127.0.0.1', port: 0, ...overrides });
  const app = await buildApp(config, options);
  await app.listen({ host: '127.0.0.1', port: overrides.port ?? 0 });
  const address = app.server.address();
  if (!address || typeof address !== 'object') throw new Error('node did not listen');
  let closed = false;
  return {
    app,
    config,
    port: address.port,
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

// ---------------------------------------------------------------- redis

export interface TestRedis {
  url: string;
  port: number;
  /** The running server's process; undefined while stopped. */
  process: ChildProcess | undefined;
  /** Kills the server (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const REDIS_MISSING =
  'redis-server is not installed or not on PATH: install it (Debian: apt-get install -y redis-server) to run the Redis tests';

/** Throws a sentence naming what to install when redis-server is missing. */
export function assertRedisInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) throw new Error(REDIS_MISSING);
}

/**
 * Starts a private `redis-server` on a free port of 127.0.0.1 (never the shared one on 6379),
 * in its own temporary directory. `appendonly` makes it keep data across `kill` + `restart`.
 */
export async function startRedis(options: { appendonly?: boolean } = {}): Promise<TestRedis> {
  assertRedisInstalled();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--appendfsync', 'always',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
  const handle: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    process: undefined,
    async kill(signal = 'SIGKILL') {
      const child = handle.process;
      if (!child || child.exitCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
      handle.process = undefined;
    },
    async restart() {
      const child = spawn('redis-server', args, { stdio: 'ignore' });
      handle.process = child;
      await eventually(() => redisAnswers(port), 10_000, `redis-server on port ${port}`);
    },
    async stop() {
      await handle.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.restart();
  return handle;
}

/** True when a Redis on `port` answers PING (a raw RESP exchange: no client library needed). */
async function redisAnswers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

// ---------------------------------------------------------------- sockets

export interface SocketOptions {
  since?: string;
  headers?: Record<string, string>;
}

/** A raw `ws` client that records every frame, for assertions on exactly what the server sent. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly raw: string[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers?: Record<string, string>) {
    this.ws = new WebSocket(url, headers ? { headers } : {});
    this.ws.on('message', (data) => {
      const text = data.toString();
      this.raw.push(text);
      const frame = parseServerFrame(text);
      if (frame) this.frames.push(frame);
      for (const wake of this.waiters) wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_request, response) => reject(new Error(`upgrade refused: ${response.statusCode}`)));
      this.ws.once('error', reject);
    });
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        resolve({ code, reason: reason.toString() });
        for (const wake of this.waiters) wake();
      });
    });
    this.opened.catch(() => undefined);
  }

  /** Opens a socket to `room` on `node` and waits until it has joined (its first presence frame). */
  static async open(base: string, room: string, options: SocketOptions = {}): Promise<TestSocket> {
    const socket = TestSocket.connect(base, room, options);
    await socket.opened;
    await socket.waitFor((frame) => frame.type === 'presence', 'the first presence frame');
    return socket;
  }

  /** Starts a socket without waiting for it. */
  static connect(base: string, room: string, options: SocketOptions = {}): TestSocket {
    const url = new URL(`/ws/chat/${room}/`, base.replace(/^http/, 'ws'));
    if (options.since !== undefined) url.searchParams.set('since', options.since);
    return new TestSocket(url.toString(), options.headers);
  }

  /** Chat messages received, in order. */
  get messages(): ChatMessage[] {
    return this.frames.filter((frame): frame is ChatMessage => frame.type === 'chat.message');
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Waits for a frame matching `predicate` (already received or yet to come). */
  async waitFor<T extends ServerFrame = ServerFrame>(
    predicate: (frame: ServerFrame) => boolean,
    what = 'a frame',
    timeoutMs = 10_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let seen = 0;
    for (;;) {
      for (; seen < this.frames.length; seen += 1) {
        const frame = this.frames[seen]!;
        if (predicate(frame)) return frame as T;
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`timed out waiting for ${what}; got ${this.raw.slice(-5).join(' | ')}`);
      if (this.ws.readyState === WebSocket.CLOSED) throw new Error(`socket closed while waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 250));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      this.waiters = [];
    }
  }

  /** Waits until `count` chat messages have arrived. */
  async waitForMessages(count: number, timeoutMs = 15_000): Promise<ChatMessage[]> {
    await eventually(() => this.messages.length >= count, timeoutMs, `${count} messages (have ${this.messages.length})`);
    return this.messages;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/**
 * Tries a WebSocket upgrade that should be refused; resolves with the HTTP status and JSON body
 * of the refusal. Rejects if the upgrade succeeds.
 */
export async function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { headers });
  return new Promise((resolve, reject) => {
    ws.once('open', () => {
      ws.close();
      reject(new Error(`upgrade to ${url} was accepted`));
    });
    ws.once('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // not JSON: the assertion on the body will say so
        }
        resolve({ status: response.statusCode ?? 0, body });
      });
    });
    ws.once('error', (error) => reject(error));
  });
}

// ---------------------------------------------------------------- network faults

export interface CutProxy {
  /** `http://127.0.0.1:PORT` of the proxy: point clients here. */
  url: string;
  /** Stops forwarding in one direction (bytes are swallowed), as a dying link does. */
  hold(direction: 'up' | 'down'): void;
  /** Cuts every connection through the proxy at the TCP level: no close frame, no FIN handshake to wait for. */
  cut(): void;
  close(): Promise<void>;
}

/** A TCP proxy on 127.0.0.1 in front of `targetPort`, for cutting connections as a network would. */
export async function startCutProxy(targetPort: number): Promise<CutProxy> {
  const { createServer: createTcpServer, connect } = await import('node:net');
  const pairs = new Set<{ client: import('node:net').Socket; upstream: import('node:net').Socket }>();
  let held: 'up' | 'down' | undefined;
  const server = createTcpServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => held !== 'up' && upstream.write(chunk));
    upstream.on('data', (chunk) => held !== 'down' && client.write(chunk));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('proxy did not listen');
  const cut = (): void => {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
    held = undefined;
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hold(direction) {
      held = direction;
    },
    cut,
    async close() {
      cut();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
