import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

/** The repository root: this file is packages/testing/{src,dist}/server-process.*. */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** What `npm start` runs once built. */
export const SERVER_SCRIPT = fileURLToPath(new URL('../../../apps/api/dist/server.js', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** The last 20,000 characters it printed, for a failing test's message. */
  output(): string;
  /** Sends `signal` (SIGKILL by default) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful: sockets hear 1012), then SIGKILL if it has not exited in 12 s. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Listen here instead of on a free port (a restart on the same address). */
  port?: number;
  /** Ready once this path answers 200. Default `/readyz` (the backend answers too). */
  readyPath?: string;
}

/**
 * Runs the built server (`node apps/api/dist/server.js`) as its own process, as production does,
 * on 127.0.0.1, and waits until it is ready. `env` adds to a minimal environment (PATH, HOME,
 * HOST, PORT, LOG_LEVEL=warn). The caller stops it, by this handle, even on failure.
 */
export async function spawnServer(env: Record<string, string>, options: SpawnOptions = {}): Promise<ServerProcess> {
  if (!existsSync(SERVER_SCRIPT)) throw new Error(`${SERVER_SCRIPT} is missing: build first (npm run build)`);
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const handle: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (running()) child.kill(signal);
      await exited;
    },
    async stop() {
      if (!running()) return;
      child.kill('SIGTERM');
      if (!(await Promise.race([exited.then(() => true), sleep(12_000).then(() => false)]))) await handle.kill('SIGKILL');
    },
  };
  const readyPath = options.readyPath ?? '/readyz';
  try {
    // A server that exits (bad configuration, a broken build) fails at once, not after the wait.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (!running()) throw new Error(`the server on ${handle.url} exited (${child.exitCode ?? child.signalCode})`);
      const response = await fetch(`${handle.url}${readyPath}`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      if (response?.status === 200) break;
      if (Date.now() > deadline) throw new Error(`the server on ${handle.url} did not answer ${readyPath} with 200 within 30 s`);
      await sleep(100);
    }
  } catch (error) {
    await handle.kill();
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- server output ---\n${output}`);
  }
  return handle;
}
