import { eventually } from '@roomcast/testing';
import { SUBPROTOCOL, parseServerFrame, type ChatMessage, type ServerFrame } from '@roomcast/protocol';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { buildApp, type BuildOptions } from '../src/app.js';
import { testConfig, type Config } from '../src/config.js';

// Waiting, ports, private redis-servers and a cuttable link are shared with the browser tests.
export {
  assertRedisInstalled,
  eventually,
  freePort,
  sleep,
  startLink,
  startRedis,
  startRedisCluster,
  type Link,
  type TestRedis,
  type TestRedisCluster,
} from '@roomcast/testing';

// ---------------------------------------------------------------- nodes

/** No message limit of any kind (per socket, per IP, per user): for tests that send fast from one address on purpose. */
export const UNLIMITED_SENDS = { socketRate: 0, ipMessageRate: 0, userMessageRate: 0 } as const satisfies Partial<Config>;

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

// ---------------------------------------------------------------- sockets

export interface SocketOptions {
  since?: string;
  headers?: Record<string, string>;
  /** More query parameters: `token`, a guest's `name`. */
  query?: Record<string, string>;
  /** Subprotocols offered; default `roomcast.v1`. */
  protocols?: string[];
}

/** A raw `ws` client that records every frame, for assertions on exactly what the server sent. */
export class TestSocket {
  readonly frames: ServerFrame[] = [];
  readonly raw: string[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  /** Offers the `roomcast.v1` subprotocol (every frame) unless `protocols` says otherwise ([] for none). */
  constructor(url: string, headers?: Record<string, string>, protocols: string[] = [SUBPROTOCOL]) {
    this.ws = new WebSocket(url, protocols, headers ? { headers } : {});
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
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value);
    return new TestSocket(url.toString(), options.headers, options.protocols);
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
