#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { killAllNow, redisMissing, startRedis, stopAll, stopRedis, type RedisProc } from './procs.js';
import { judge, renderTables, type BenchResults, type Machine, type Outcome } from './report.js';
import { renderCluster, runCluster } from './scenarios/cluster.js';
import { runDjango, startDaphne, type DjangoLayer } from './scenarios/django.js';
import { runFanout, type FanoutResult } from './scenarios/fanout.js';
import { runBigRoom } from './scenarios/big-room.js';
import { runHttpPublish, type HttpResult } from './scenarios/http-publish.js';
import { runStorm } from './scenarios/storm.js';
import { runIdle, type IdleResult } from './scenarios/idle.js';
import { BENCH_API_KEY, startBaseline, startRoomcast, startSocketIo, stopServer, type ServerUnderTest } from './servers.js';

/**
 * `npm run bench`: every scenario against Roomcast and against a bare `ws` broadcast server,
 * under the identical load, in one run; a table on stdout and the JSON under bench/results/.
 * Each server is a child process, stopped by its PID when its scenario ends, whatever happens.
 */

/** The whole run stays under this (the build before it takes under a minute). */
const BUDGET_MS = 15 * 60_000;
const IDLE_SIZES = [2_000, 10_000, 18_000];
/**
 * How long the idle scenario delivers, by size: at 18,000 longer than the server's 30 s
 * heartbeat, so whatever the heartbeat costs shows in that p99.
 */
const IDLE_DELIVERY_MS: Record<number, number> = { 2_000: 8_000, 10_000: 8_000, 18_000: 32_000 };
/** Scenarios not started once this little time is left. */
const RESERVE_MS: Record<string, number> = {
  fanout: 75_000,
  'fanout-peers': 60_000,
  http: 20_000,
  django: 30_000,
  idle: 30_000,
  'idle-long': 60_000,
  storm: 60_000,
  bigroom: 45_000,
  cluster: 90_000,
};

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const resultsDir = `${repoRoot}bench/results/`;
const startedAtMs = Date.now();
const budgetEnd = startedAtMs + BUDGET_MS;
const foreign: number[] = [];

function machine(): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown CPU';
  const limit = spawnSync('bash', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return {
    cores: availableParallelism(),
    model,
    node: process.version,
    kernel: release(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    openFilesLimit: limit,
  };
}

const say = (line: string): void => void process.stdout.write(`${line}\n`);

/** `BENCH_ONLY=fanout,idle` runs only those kinds of scenario (for working on one). */
const only = process.env.BENCH_ONLY?.split(',').map((kind) => kind.trim());

function timeLeft(kind: string): string | undefined {
  if (only && !only.includes(kind.split('-')[0]!)) return `skipped (BENCH_ONLY=${only.join(',')})`;
  return budgetEnd - Date.now() < RESERVE_MS[kind]! ? 'the bench ran out of its time budget' : undefined;
}

/** Runs one scenario; any failure becomes a "not run" with its reason, and its servers stop. */
async function attempt<T>(title: string, kind: string, body: (stops: Array<() => Promise<void>>) => Promise<T>): Promise<Outcome<T>> {
  const late = timeLeft(kind);
  if (late) {
    say(`- ${title}: not run (${late})`);
    return { notRun: late };
  }
  say(`- ${title}`);
  const stops: Array<() => Promise<void>> = [];
  try {
    return await body(stops);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    say(`  not run: ${reason}`);
    return { notRun: reason };
  } finally {
    for (const stopOne of stops.reverse()) await stopOne().catch(() => undefined);
  }
}

function noteForeign(result: Outcome<FanoutResult>): Outcome<FanoutResult> {
  if ('steps' in result) for (const step of result.steps) foreign.push(step.window.foreignBusyPercent);
  return result;
}

async function fanoutOnOneNode(label: string, start: () => Promise<ServerUnderTest>, stops: Array<() => Promise<void>>): Promise<FanoutResult> {
  const server = await start();
  stops.push(() => stopServer(server));
  return runFanout(
    { label, kind: server.kind, senderPort: server.port, subscriberPort: server.port, nodes: { [label]: server.proc.pid }, others: {} },
    budgetEnd - RESERVE_MS.fanout! / 2,
  );
}

async function withRedis(stops: Array<() => Promise<void>>): Promise<RedisProc> {
  const missing = redisMissing();
  if (missing) throw new Error(missing);
  const redis = await startRedis();
  stops.push(() => stopRedis(redis));
  return redis;
}

async function main(): Promise<void> {
  const results: BenchResults = {
    startedAt: new Date(startedAtMs).toISOString(),
    durationSeconds: 0,
    machine: machine(),
    quiet: { loadAverageBefore: loadavg(), loadAverageAfter: [], foreignBusyMeanPercent: 0, foreignBusyMaxPercent: 0 },
    fanout: { baseline: { notRun: '' }, embedded: { notRun: '' }, redisOneNode: { notRun: '' }, redisTwoNodes: { notRun: '' } },
    http: { baseline: { notRun: '' }, embedded: { notRun: '' } },
    idle: [],
    targets: [],
  };
  const m = results.machine;
  say(`Roomcast bench on ${m.cores} cores (${m.model}), Node ${m.node}; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

  const fanout = results.fanout;
  fanout.baseline = noteForeign(await attempt('fan-out, bare ws baseline', 'fanout', (stops) => fanoutOnOneNode('bare ws', () => startBaseline(), stops)));
  fanout.embedded = noteForeign(
    await attempt('fan-out, Roomcast one node, embedded backend', 'fanout', (stops) => fanoutOnOneNode('roomcast', () => startRoomcast('roomcast'), stops)),
  );
  fanout.redisOneNode = noteForeign(
    await attempt('fan-out, Roomcast one node, Redis backend', 'fanout', async (stops) => {
      const redis = await withRedis(stops);
      const node = await startRoomcast('roomcast', { redisUrl: redis.url });
      stops.push(() => stopServer(node));
      return runFanout(
        { label: 'roomcast redis', kind: 'roomcast', senderPort: node.port, subscriberPort: node.port, nodes: { roomcast: node.proc.pid }, others: { redis: redis.pid } },
        budgetEnd - RESERVE_MS.fanout! / 2,
      );
    }),
  );
  fanout.redisTwoNodes = noteForeign(
    await attempt('fan-out, Roomcast two nodes over Redis (senders on A, subscribers on B)', 'fanout', async (stops) => {
      const redis = await withRedis(stops);
      const nodeA = await startRoomcast('node A', { redisUrl: redis.url });
      stops.push(() => stopServer(nodeA));
      const nodeB = await startRoomcast('node B', { redisUrl: redis.url });
      stops.push(() => stopServer(nodeB));
      return runFanout(
        {
          label: 'roomcast 2 nodes',
          kind: 'roomcast',
          senderPort: nodeA.port,
          subscriberPort: nodeB.port,
          nodes: { 'node A': nodeA.proc.pid, 'node B': nodeB.proc.pid },
          others: { redis: redis.pid },
        },
        budgetEnd - RESERVE_MS.fanout! / 2,
      );
    }),
  );

  // The peers, under the same generator and the same checks.
  fanout.socketIo = noteForeign(
    await attempt('fan-out, Socket.IO 4, one process', 'fanout-peers', (stops) => fanoutOnOneNode('socket.io', () => startSocketIo('socket.io'), stops)),
  );
  fanout.socketIoTwo = noteForeign(
    await attempt('fan-out, Socket.IO 4, two processes over @socket.io/redis-adapter (senders on A, subscribers on B)', 'fanout-peers', async (stops) => {
      const redis = await withRedis(stops);
      const nodeA = await startSocketIo('socket.io A', redis.url);
      stops.push(() => stopServer(nodeA));
      const nodeB = await startSocketIo('socket.io B', redis.url);
      stops.push(() => stopServer(nodeB));
      return runFanout(
        {
          label: 'socket.io 2 processes',
          kind: 'socketio',
          senderPort: nodeA.port,
          subscriberPort: nodeB.port,
          nodes: { 'socket.io A': nodeA.proc.pid, 'socket.io B': nodeB.proc.pid },
          others: { redis: redis.pid },
        },
        budgetEnd - RESERVE_MS['fanout-peers']! / 2,
      );
    }),
  );
  const daphne = async (layer: DjangoLayer): Promise<Outcome<FanoutResult>> =>
    noteForeign(
      await attempt(`fan-out, Django Channels ${layer} layer + daphne`, 'fanout-peers', async (stops) => {
        const redis = await withRedis(stops);
        const server = await startDaphne(layer, redis);
        stops.push(() => stopServer(server));
        return runFanout(
          { label: server.label, kind: 'django', senderPort: server.port, subscriberPort: server.port, nodes: { [server.label]: server.proc.pid }, others: { redis: redis.pid } },
          budgetEnd - RESERVE_MS['fanout-peers']! / 2,
        );
      }),
    );
  fanout.djangoPubsub = await daphne('pubsub');
  fanout.djangoCore = await daphne('core');

  const http = async (label: string, start: () => Promise<ServerUnderTest>): Promise<Outcome<HttpResult>> =>
    attempt(`POST /rooms/:room/messages, ${label}`, 'http', async (stops) => {
      const server = await start();
      stops.push(() => stopServer(server));
      return runHttpPublish(server);
    });
  results.http.baseline = await http('bare ws + node:http', () => startBaseline());
  results.http.embedded = await http('Roomcast embedded', () => startRoomcast('roomcast'));

  results.django = await attempt('Django group_send -> sockets, Roomcast through the bridge beside daphne', 'django', async (stops) => {
    const result = await runDjango(await withRedis(stops), stops);
    say(`  Roomcast ${Math.round(result.roomcast.perSecond)} msg/s, daphne ${Math.round(result.daphne.perSecond)} msg/s`);
    return result;
  });

  // The reconnect storm: node A stopped, every client back on B (Roomcast: resumed over Redis).
  const storm = async (label: string, start: (stops: Array<() => Promise<void>>) => Promise<[ServerUnderTest, ServerUnderTest]>) =>
    attempt(`reconnect storm, ${label}`, 'storm', async (stops) => {
      const [nodeA, nodeB] = await start(stops);
      const result = await runStorm(nodeA, nodeB, BENCH_API_KEY);
      say(
        `  ${result.back}/${result.sockets} back in ${result.seconds.toFixed(1)} s (A closed all in ${result.closedSeconds.toFixed(1)} s), ` +
          `${result.retries} retries, survivor ${Math.round(result.survivorCpuUsPerReconnect)} µs CPU per reconnect, peak RSS ${Math.round(result.survivorPeakRssBytes / 2 ** 20)} MiB, ` +
          `${result.missing} missing, ${result.duplicates} dup of ${result.checked} checked${result.error ? `, ${result.error}` : ''}`,
      );
      return result;
    });
  const pair = async (stops: Array<() => Promise<void>>, begin: () => Promise<ServerUnderTest>, next: () => Promise<ServerUnderTest>): Promise<[ServerUnderTest, ServerUnderTest]> => {
    const nodeA = await begin();
    stops.push(() => stopServer(nodeA));
    const nodeB = await next();
    stops.push(() => stopServer(nodeB));
    return [nodeA, nodeB];
  };
  results.storm = {
    baseline: await storm('bare ws A -> bare ws B', (stops) => pair(stops, () => startBaseline('bare A'), () => startBaseline('bare B'))),
    roomcast: await storm('Roomcast node A -> node B over Redis, resuming with since', async (stops) => {
      const redis = await withRedis(stops);
      return pair(stops, () => startRoomcast('node A', { redisUrl: redis.url }), () => startRoomcast('node B', { redisUrl: redis.url }));
    }),
  };

  const bigRoom = async (label: string, begin: () => Promise<ServerUnderTest>) =>
    attempt(`big rooms, ${label}`, 'bigroom', async (stops) => {
      const server = await begin();
      stops.push(() => stopServer(server));
      const result = await runBigRoom(server);
      for (const step of [result.loud, result.crowdQuiet, result.crowdChurn]) {
        if (step) say(`  ${step.subscribers} at ${step.ratePerSecond}/s${step.churnPerSecond ? `, ${step.churnPerSecond}/s churn` : ''}: ${step.serverCpuUsPerCopy.toFixed(2)} µs/copy, p99 ${step.p99Ms.toFixed(1)} ms, ${step.lost} lost`);
      }
      if (result.error) say(`  ${result.error}`);
      return result;
    });
  results.bigRoom = { baseline: await bigRoom('bare ws', () => startBaseline()), roomcast: await bigRoom('Roomcast embedded', () => startRoomcast('roomcast')) };

  for (const sockets of IDLE_SIZES) {
    const idle = async (label: string, start: () => Promise<ServerUnderTest>): Promise<Outcome<IdleResult>> =>
      attempt(`${sockets.toLocaleString('en-US')} idle sockets, ${label}`, IDLE_DELIVERY_MS[sockets]! > 8_000 ? 'idle-long' : 'idle', async (stops) => {
        const server = await start();
        stops.push(() => stopServer(server));
        const result = await runIdle(server, sockets, Math.min(budgetEnd, Date.now() + 60_000), IDLE_DELIVERY_MS[sockets]!);
        say(
          `  ${result.openAtEnd} open, ${Math.round(result.connectsPerSecond)} connects/s, ${(result.rssPerConnectionBytes / 1024).toFixed(1)} KB/connection, ` +
            `${result.deliveredCopies}/${result.expectedCopies} delivered, ${result.lost} lost, p99 ${result.p99Ms.toFixed(1)} ms${result.error ? `, ${result.error}` : ''}`,
        );
        return result;
      });
    results.idle.push({
      sockets,
      baseline: await idle('bare ws', () => startBaseline()),
      roomcast: await idle('Roomcast embedded', () => startRoomcast('roomcast')),
      // Socket.IO at one size only: its row is a comparison, not a sweep, and the run has a budget.
      ...(sockets === 10_000 ? { socketIo: await idle('Socket.IO 4', () => startSocketIo('socket.io')) } : {}),
    });
  }

  // Last: with the rest of the run they may not fit the budget; BENCH_ONLY=cluster runs them alone.
  const clusterAttempt = <T>(title: string, body: (stops: Array<() => Promise<void>>) => Promise<T>) => attempt(title, 'cluster', body);
  if (!timeLeft('cluster')) results.cluster = await runCluster(clusterAttempt, withRedis, budgetEnd - RESERVE_MS.cluster! / 4);
  else say(`- Redis Cluster rows: not run (${timeLeft('cluster')})`);

  results.durationSeconds = (Date.now() - startedAtMs) / 1000;
  results.quiet.loadAverageAfter = loadavg();
  results.quiet.foreignBusyMeanPercent = foreign.length ? foreign.reduce((a, b) => a + b, 0) / foreign.length : 0;
  results.quiet.foreignBusyMaxPercent = foreign.length ? Math.max(...foreign) : 0;
  results.targets = judge(results);

  mkdirSync(resultsDir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  writeFileSync(`${resultsDir}${stamp}.json`, json);
  // A partial run (BENCH_ONLY) is kept under its time only: latest.json is always a full one.
  if (!only) writeFileSync(`${resultsDir}latest.json`, json);
  say('');
  say(renderTables(results));
  say('');
  if (results.cluster) say(`${renderCluster(results.cluster)}\n`);
  say(`Written: bench/results/${stamp}.json${only ? '' : ' and bench/results/latest.json'}`);
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAllNow();
    process.exit(130);
  });
}
main()
  .then(() => stopAll())
  .catch(async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAll();
    process.exitCode = 1;
  });
