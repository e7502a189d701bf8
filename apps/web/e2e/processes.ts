import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const SERVER_JS = join(REPO, 'apps/api/dist/server.js');
const WEB_ROOT = join(REPO, 'apps/web/dist');

/** The API key the tests post with (seeding rooms, another client that keeps posting). */
export const API_KEY = 'e2e-service-key-0123456789';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000): Promise<NonNullable<T>> {
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
    await sleep(50);
  }
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
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

// ---------------------------------------------------------------- the built server

export interface ServerHandle {
  url: string;
  port: number;
  process: ChildProcess;
  /** What the server printed, for a failing test's message. */
  output(): string;
  /** SIGTERM (graceful: sockets hear 1012), then SIGKILL if it does not exit in time. */
  stop(): Promise<void>;
}

/**
 * Starts `node apps/api/dist/server.js` (what `npm start` runs) on a free port, serving the built
 * SPA, and waits until `/healthz` answers.
 */
export async function startServer(env: Record<string, string> = {}, port?: number): Promise<ServerHandle> {
  if (!existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: build first (npm run build)`);
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`${WEB_ROOT}/index.html is missing: build the web app first (npm run build)`);
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [SERVER_JS], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(listenPort),
      HOST: '127.0.0.1',
      WEB_ROOT,
      LOG_LEVEL: 'warn',
      SESSION_SECRET: 'e2e-session-secret-e2e-session-secret',
      API_KEYS: API_KEY,
      PUBLISH_RATE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${listenPort}`;
  const handle: ServerHandle = {
    url,
    port: listenPort,
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(12_000).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
  try {
    // Ready when /healthz answers; a server that exits (bad config, a broken build) fails at once.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server on ${url} exited (${child.exitCode ?? child.signalCode})`);
      const ok = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`the server on ${url} did not answer /healthz within 30 s`);
      await sleep(100);
    }
  } catch (error) {
    await handle.stop();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`);
  }
  return handle;
}

/** Posts a message as the test's API key: another client that is not a browser. */
export async function postMessage(base: string, room: string, message: string, key = API_KEY): Promise<{ id: string; message: string }> {
  const response = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  if (response.status !== 201) throw new Error(`POST /rooms/${room}/messages answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; message: string };
}

// ---------------------------------------------------------------- Redis

export interface RedisHandle {
  url: string;
  stop(): Promise<void>;
}

/** A private redis-server on a free port (never the shared one on 6379), in a temporary directory. */
export async function startRedis(): Promise<RedisHandle> {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new Error('redis-server is not installed: install it (Debian: apt-get install -y redis-server) to run this test.');
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-e2e-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await eventually(() => redisAnswers(port), `redis-server on port ${port}`, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

function redisAnswers(port: number): Promise<boolean> {
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

// ---------------------------------------------------------------- a network we can cut

export interface CuttableLink {
  url: string;
  /** Drops every open connection and refuses new ones: the network is gone. */
  cut(): void;
  /** Keeps connections open but drops what the server sends: the answers are lost on the way. */
  muteReplies(): void;
  /** Lets connections through again. */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay in front of `targetPort`, so a test can take the network away from a page. */
export async function startCuttableLink(targetPort: number): Promise<CuttableLink> {
  const sockets = new Set<Socket>();
  let down = false;
  let muted = false;
  const server: Server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (!muted) client.write(chunk);
    });
    upstream.on('end', () => client.end());
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    muteReplies() {
      muted = true;
    },
    restore() {
      down = false;
      muted = false;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
