import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { eventually } from './wait.js';

export interface TestRedis {
  url: string;
  port: number;
  /** The running server's process; undefined while stopped. */
  process: ChildProcess | undefined;
  /** Kills the server (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  restart(): Promise<void>;
  /** Kills it and removes its data directory. */
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
  try {
    await handle.restart();
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** True when a Redis on `port` answers PING (a raw RESP exchange: no client library needed). */
export function redisAnswers(port: number): Promise<boolean> {
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
