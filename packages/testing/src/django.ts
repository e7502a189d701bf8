import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';
import { sleep } from './wait.js';

/**
 * The Django Channels tutorial project the bridge tests run (apps/api/test/fixtures/django), on
 * Debian's Django, Channels, channels_redis and daphne under /usr/bin/python3.
 */
export const DJANGO_FIXTURE = fileURLToPath(new URL('../../../apps/api/test/fixtures/django/', import.meta.url));
export const PYTHON = '/usr/bin/python3';

const DJANGO_MISSING =
  `${PYTHON} cannot import django, channels, channels_redis, daphne and msgpack: install them ` +
  '(Debian: apt-get install -y python3-django python3-django-channels python3-channels-redis daphne python3-msgpack) to run the Django bridge tests';

/** True when Debian's Django Channels stack is importable. */
export function djangoInstalled(): boolean {
  const probe = spawnSync(PYTHON, ['-c', 'import django, channels, channels_redis, daphne, msgpack'], { encoding: 'utf8' });
  return !probe.error && probe.status === 0;
}

/** Throws a sentence naming what to install when the Django stack is missing. */
export function assertDjangoInstalled(): void {
  if (!djangoInstalled()) throw new Error(DJANGO_MISSING);
}

/** The fixture's settings: the layer Roomcast joins, in the same variable names. */
export interface DjangoEnv {
  DJANGO_CHANNEL_LAYER: 'core' | 'pubsub';
  DJANGO_REDIS_URL: string;
  DJANGO_LAYER_PREFIX?: string;
  DJANGO_ENCRYPTION_KEYS?: string;
}

const pythonEnv = (env: DjangoEnv): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '',
  PYTHONDONTWRITEBYTECODE: '1',
  ...(env as unknown as Record<string, string>),
});

/** Runs `/usr/bin/python3 manage.py ARGS` in the fixture; resolves with its output, rejects on failure. */
export async function manage(env: DjangoEnv, args: string[], timeoutMs = 120_000): Promise<string> {
  return runPython(env, ['manage.py', ...args], timeoutMs);
}

/** Runs a Python script (`-c`) in the fixture with its settings loaded. */
export async function runPython(env: DjangoEnv, args: string[], timeoutMs = 60_000): Promise<string> {
  assertDjangoInstalled();
  const child = spawn(PYTHON, args, {
    cwd: DJANGO_FIXTURE,
    env: { ...pythonEnv(env), DJANGO_SETTINGS_MODULE: 'mysite.settings' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`python3 ${args.slice(0, 2).join(' ')} failed (${code}):\n${err.slice(-4000)}`);
  return out;
}

export interface Daphne {
  url: string;
  port: number;
  output(): string;
  /** SIGKILL, and waits for the exit. */
  stop(): Promise<void>;
}

/** Starts daphne serving the fixture's ASGI application on a free port of 127.0.0.1. */
export async function startDaphne(env: DjangoEnv): Promise<Daphne> {
  assertDjangoInstalled();
  const port = await freePort();
  const child = spawn(PYTHON, ['-m', 'daphne', '-b', '127.0.0.1', '-p', String(port), 'mysite.asgi:application'], {
    cwd: DJANGO_FIXTURE,
    env: pythonEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const daphne: Daphne = {
    url: `http://127.0.0.1:${port}`,
    port,
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`daphne exited (${child.exitCode}):\n${output}`);
    const response = await fetch(`${daphne.url}/chat/`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
    if (response?.status === 200) break;
    if (Date.now() > deadline) {
      await daphne.stop();
      throw new Error(`daphne on ${daphne.url} did not answer /chat/ within 30 s:\n${output}`);
    }
    await sleep(100);
  }
  return daphne;
}
