import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { redisAnswers } from './redis.js';
import { eventually } from './wait.js';

const run = promisify(execFile);

/** A Redis Cluster node's port plus this is its cluster bus port (Redis's fixed offset). */
const BUS_PORT_OFFSET = 10_000;
/** Highest client port: its bus port must still be a port. */
const MAX_PORT = 65_535 - BUS_PORT_OFFSET;

const CLUSTER_MISSING =
  'redis-server and redis-cli (Redis 7 or later) are needed for the Redis Cluster tests: install them (Debian: apt-get install -y redis-server, which brings redis-cli)';

export interface TestClusterNode {
  port: number;
  /** `127.0.0.1:PORT` */
  address: string;
  /** The running server; undefined while killed. */
  process: ChildProcess | undefined;
  /** Sends `signal` (SIGKILL by default) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and cluster config (it rejoins, as a replica if it was failed over). */
  restart(): Promise<void>;
}

export interface TestRedisCluster {
  nodes: TestClusterNode[];
  /** Every node's `host:port`, as REDIS_CLUSTER_NODES takes them. */
  seeds: string[];
  /** `redis-cli -p PORT ARGS...`, its output trimmed (throws on a failed run). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The ports of the masters now, by CLUSTER NODES as one live node sees it. */
  masters(): Promise<number[]>;
  /** The port of the master serving `slot` now. */
  masterOf(slot: number): Promise<number>;
  /** Empties every master (between tests): FLUSHALL, replicated to its replicas. */
  flush(): Promise<void>;
  /** Waits until every live node says cluster_state:ok and knows the same masters. */
  settled(timeoutMs?: number): Promise<void>;
  /** Kills every node by its PID and removes their directories. */
  stop(): Promise<void>;
}

/** Throws a sentence naming what to install when redis-server or redis-cli is missing. */
export function assertRedisClusterInstalled(): void {
  for (const binary of ['redis-server', 'redis-cli']) {
    const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) throw new Error(CLUSTER_MISSING);
  }
}

/** True when nothing listens on `port` of 127.0.0.1 right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port at most MAX_PORT whose bus port is free too. */
async function freeClusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 20_000 + Math.floor(Math.random() * (MAX_PORT - 20_000));
    if (taken.has(port) || taken.has(port + BUS_PORT_OFFSET)) continue;
    if ((await portFree(port)) && (await portFree(port + BUS_PORT_OFFSET))) {
      taken.add(port).add(port + BUS_PORT_OFFSET);
      return port;
    }
  }
  throw new Error('no free port pair (port and port + 10000) for a Redis Cluster node');
}

function startNode(port: number, dir: string): TestClusterNode {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--cluster-enabled', 'yes',
    '--cluster-config-file', `nodes-${port}.conf`,
    // Short enough that a killed master fails over within seconds, long enough for a loaded machine.
    '--cluster-node-timeout', '3000',
    // The other masters keep serving their slots while one is down.
    '--cluster-require-full-coverage', 'no',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
  const node: TestClusterNode = {
    port,
    address: `127.0.0.1:${port}`,
    process: undefined,
    async kill(signal = 'SIGKILL') {
      const child = node.process;
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
      node.process = undefined;
    },
    async restart() {
      node.process = spawn('redis-server', args, { stdio: 'ignore' });
      await eventually(() => redisAnswers(port), 10_000, `redis-server (cluster node) on port ${port}`);
    },
  };
  return node;
}

/** `field:value` lines of CLUSTER INFO / INFO as a map. */
const fields = (text: string): Map<string, string> =>
  new Map(text.split(/\r?\n/).flatMap((line) => (line.includes(':') ? [[line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()] as [string, string]] : [])));

/**
 * Starts a private Redis Cluster on 127.0.0.1: `masters` masters with `replicas` replicas each
 * (3 and 1 by default: six redis-server processes), made with `redis-cli --cluster create`, and
 * waits until every node says cluster_state:ok and every replica is in sync. Ports are free ones
 * at most 55535 (the bus port is the port + 10000). The caller stops it.
 */
export async function startRedisCluster(options: { masters?: number; replicas?: number } = {}): Promise<TestRedisCluster> {
  assertRedisClusterInstalled();
  const masters = options.masters ?? 3;
  const replicas = options.replicas ?? 1;
  const dir = mkdtempSync(join(tmpdir(), 'roomcast-cluster-'));
  const taken = new Set<number>();
  const nodes: TestClusterNode[] = [];
  const cli = async (port: number, ...args: string[]): Promise<string> =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 30_000 })).stdout.trim();
  const live = (): TestClusterNode[] => nodes.filter((node) => node.process !== undefined);

  const clusterNodes = async (): Promise<Array<{ port: number; master: boolean; failed: boolean; slots: string[] }>> => {
    for (const node of live()) {
      const text = await cli(node.port, 'CLUSTER', 'NODES').catch(() => undefined);
      if (text === undefined) continue;
      return text.split('\n').map((line) => {
        const parts = line.trim().split(' ');
        const flags = parts[2] ?? '';
        return { port: Number((parts[1] ?? '').split(/[:@]/)[1]), master: flags.includes('master'), failed: flags.includes('fail'), slots: parts.slice(8) };
      });
    }
    throw new Error('no cluster node answers');
  };

  const handle: TestRedisCluster = {
    nodes,
    seeds: [],
    cli,
    async masters() {
      return (await clusterNodes()).filter((node) => node.master && !node.failed).map((node) => node.port);
    },
    async masterOf(slot) {
      for (const node of await clusterNodes()) {
        if (!node.master || node.failed) continue;
        for (const range of node.slots) {
          if (range.startsWith('[')) continue;
          const [low, high] = range.split('-').map(Number);
          if (slot >= low! && slot <= (high ?? low!)) return node.port;
        }
      }
      throw new Error(`no master serves slot ${slot}`);
    },
    async flush() {
      for (const port of await handle.masters()) await cli(port, 'FLUSHALL');
    },
    async settled(timeoutMs = 30_000) {
      await eventually(
        async () => {
          const views = await Promise.all(
            live().map(async (node) => {
              const info = fields(await cli(node.port, 'CLUSTER', 'INFO').catch(() => ''));
              return info.get('cluster_state') === 'ok' ? info.get('cluster_size') : undefined;
            }),
          );
          return views.every((size) => size === String(masters));
        },
        timeoutMs,
        'every Redis Cluster node to say cluster_state:ok',
      );
      // Every replica linked to its master, so that WAIT and failovers behave from the start.
      await eventually(
        async () => {
          const roles = await Promise.all(live().map(async (node) => fields(await cli(node.port, 'INFO', 'replication').catch(() => ''))));
          return roles.every((role) => role.get('role') === 'master' || role.get('master_link_status') === 'up');
        },
        timeoutMs,
        'every Redis Cluster replica to be in sync with its master',
      );
    },
    async stop() {
      await Promise.all(nodes.map((node) => node.kill('SIGKILL')));
      rmSync(dir, { recursive: true, force: true });
    },
  };

  try {
    for (let n = 0; n < masters * (1 + replicas); n += 1) nodes.push(startNode(await freeClusterPort(taken), dir));
    await Promise.all(nodes.map((node) => node.restart()));
    handle.seeds = nodes.map((node) => node.address);
    await run('redis-cli', ['--cluster', 'create', ...handle.seeds, '--cluster-replicas', String(replicas), '--cluster-yes'], { timeout: 60_000 });
    await handle.settled(60_000);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}
