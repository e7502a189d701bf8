import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { redisAnswers } from '@roomcast/testing';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The processes the bench starts, each measured from /proc so its CPU and memory are its own,
 * and each stopped by its PID when a scenario ends, when the bench fails, or when it is
 * interrupted. Nothing here touches a process the bench did not start.
 */

/** Open files a server may have: 18,000 sockets plus its own. Raised up to the hard limit. */
const WANTED_OPEN_FILES = 65_536;
const TICKS_PER_SECOND = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

export interface Proc {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Last lines the process wrote (stdout and stderr), for a "did not start" reason. */
  output: string[];
  exited: Promise<number | null>;
}

const running = new Set<Proc>();
/** Temporary directories of the redis-servers started, removed however the bench ends. */
const tempDirs = new Set<string>();

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts `command args` (environment: ours, plus `env`, less `unset`) with the open-file limit raised as far as this machine allows (through
 * bash's `ulimit`, then `exec`, so the PID is the program's own).
 */
export function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, unset: string[] = []): Proc {
  const childEnv = { ...process.env, ...env };
  for (const variable of unset) delete childEnv[variable];
  const script = `ulimit -n ${WANTED_OPEN_FILES} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;
  const child = spawn('bash', ['-c', script, 'bash', command, ...args], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const output: string[] = [];
  const keep = (chunk: Buffer): void => {
    output.push(...chunk.toString().split('\n').filter((line) => line.trim() !== ''));
    if (output.length > 40) output.splice(0, output.length - 40);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const proc: Proc = {
    name,
    pid: child.pid,
    child,
    output,
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  return proc;
}

/** Stops `proc` by its PID: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(proc: Proc, graceMs = 5000): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => stop(proc, 2000)));
}

/** Last resort on exit: every process still running is killed by its PID, temporary data removed. */
export function killAllNow(): void {
  for (const proc of running) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
}

export function runningCount(): number {
  return running.size;
}

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3, `state`.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** Resident memory of the process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** The most resident memory the process has had (VmHWM). */
export function peakRssBytes(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Waits until `check` is true, the process exits (rejects with its output) or `timeoutMs` passes. */
export async function waitUntil(proc: Proc, check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      throw new Error(`${proc.name} exited before ${what}: ${proc.output.slice(-3).join(' / ') || 'no output'}`);
    }
    if (await check().catch(() => false)) return;
    await sleep(50);
  }
  throw new Error(`${proc.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** True when an HTTP GET of `path` answers 200. */
export async function httpOk(port: number, path: string): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return response.status === 200;
}

export interface RedisProc extends Proc {
  url: string;
  dir: string;
}

/** Why the Redis scenarios cannot run here, or undefined when they can. */
export function redisMissing(): string | undefined {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.error || probe.status !== 0 ? 'redis-server is not on PATH' : undefined;
}

/** A private redis-server on a free port (never the shared 6379), without persistence. */
export async function startRedis(): Promise<RedisProc> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-bench-redis-'));
  tempDirs.add(dir);
  const proc = start('redis-server', 'redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning',
  ]);
  await waitUntil(proc, () => redisAnswers(port), 10_000, `redis-server on ${port}`);
  return { ...proc, url: `redis://127.0.0.1:${port}`, dir };
}

export async function stopRedis(redis: RedisProc): Promise<void> {
  await stop(redis);
  rmSync(redis.dir, { recursive: true, force: true });
  tempDirs.delete(redis.dir);
}
