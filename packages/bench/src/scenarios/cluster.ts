import { startRedisCluster, type TestRedisCluster } from '@roomcast/testing';
import type { Outcome } from '../report.js';
import { ran } from '../report.js';
import { startRoomcast, stopServer } from '../servers.js';
import { runFanout, type StepResult } from './fanout.js';
import { runHttpPublish, type HttpResult } from './http-publish.js';
import type { RedisProc } from '../procs.js';

/**
 * Messages a second per room of the cluster rows: a quarter of the fan-out reference rate (20,400
 * copies/s), which one node keeps up with on a small machine while six redis-servers run beside
 * it, so that the figures compare costs rather than overloads.
 */
const RATE_PER_ROOM = 40;

/**
 * The Redis Cluster rows: the fan-out of 10 rooms at one rate (RATE_PER_ROOM) on one
 * Roomcast node over one Redis and over a Redis Cluster of 3 masters and 3 replicas, with the
 * Redis CPU each message costs (every redis-server process's CPU over the step, by /proc, per
 * message sent); and what REDIS_WAIT_REPLICAS=1 costs a publish (POST /rooms/:room/messages
 * on the cluster, with and without it).
 */
export interface ClusterFanoutRow {
  label: string;
  step: StepResult;
  /** Microseconds of Redis CPU per message: masters (the script, the fan-out) and replicas (applying the stream). */
  redisCpuUsPerMessage: { masters: number; replicas: number };
}

export interface ClusterResults {
  oneRedis: Outcome<ClusterFanoutRow>;
  cluster: Outcome<ClusterFanoutRow>;
  publishNoWait: Outcome<HttpResult>;
  publishWait: Outcome<HttpResult>;
}

type Attempt = <T>(title: string, body: (stops: Array<() => Promise<void>>) => Promise<T>) => Promise<Outcome<T>>;

/** One node, at the reference rate only; Redis CPU split between masters and replicas. */
async function fanoutRow(
  label: string,
  env: Record<string, string>,
  redis: { masters: Record<string, number>; replicas: Record<string, number> },
  stops: Array<() => Promise<void>>,
  deadline: number,
): Promise<ClusterFanoutRow> {
  const node = await startRoomcast(label, { env });
  stops.push(() => stopServer(node));
  const result = await runFanout(
    { label, kind: 'roomcast', senderPort: node.port, subscriberPort: node.port, nodes: { [label]: node.proc.pid }, others: { ...redis.masters, ...redis.replicas }, referenceOnly: true, referenceRatePerRoom: RATE_PER_ROOM },
    deadline,
  );
  const step = result.reference;
  if (!step) throw new Error('the reference step did not run');
  const cpu = (names: string[]): number => (names.reduce((sum, name) => sum + (step.window.cpu[name] ?? 0), 0) * 1e6) / Math.max(1, step.sentMessages);
  return { label, step, redisCpuUsPerMessage: { masters: cpu(Object.keys(redis.masters)), replicas: cpu(Object.keys(redis.replicas)) } };
}

/** The PIDs of a test cluster's masters and replicas, named for the meter. */
async function clusterPids(cluster: TestRedisCluster): Promise<{ masters: Record<string, number>; replicas: Record<string, number> }> {
  const masters = new Set(await cluster.masters());
  const named = { masters: {} as Record<string, number>, replicas: {} as Record<string, number> };
  for (const node of cluster.nodes) {
    const role = masters.has(node.port) ? 'masters' : 'replicas';
    named[role][`redis ${role === 'masters' ? 'master' : 'replica'} ${node.port}`] = node.process!.pid!;
  }
  return named;
}

export async function runCluster(attempt: Attempt, withRedis: (stops: Array<() => Promise<void>>) => Promise<RedisProc>, deadline: number): Promise<ClusterResults> {
  const withCluster = async (stops: Array<() => Promise<void>>): Promise<TestRedisCluster> => {
    const cluster = await startRedisCluster();
    stops.push(() => cluster.stop());
    return cluster;
  };
  const oneRedis = await attempt('cluster rows: fan-out of 10 rooms at 20,400 copies/s, one node over one Redis', async (stops) => {
    const redis = await withRedis(stops);
    return fanoutRow('one Redis', { REDIS_URL: redis.url }, { masters: { redis: redis.pid }, replicas: {} }, stops, deadline);
  });
  const cluster = await attempt('cluster rows: the same over a Redis Cluster of 3 masters + 3 replicas', async (stops) => {
    const redis = await withCluster(stops);
    return fanoutRow('Redis Cluster', { REDIS_CLUSTER_NODES: redis.seeds.join(',') }, await clusterPids(redis), stops, deadline);
  });
  const publish = (waitReplicas: number) =>
    attempt(`cluster rows: POST /rooms/:room/messages on the cluster, REDIS_WAIT_REPLICAS=${waitReplicas}`, async (stops) => {
      const redis = await withCluster(stops);
      const node = await startRoomcast(`cluster wait ${waitReplicas}`, { env: { REDIS_CLUSTER_NODES: redis.seeds.join(','), REDIS_WAIT_REPLICAS: String(waitReplicas) } });
      stops.push(() => stopServer(node));
      return runHttpPublish(node);
    });
  return { oneRedis, cluster, publishNoWait: await publish(0), publishWait: await publish(1) };
}

const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const int = (value: number): string => Math.round(value).toLocaleString('en-US');

/** The cluster tables, for the end of the report. */
export function renderCluster(results: ClusterResults | undefined): string {
  if (!results) return '';
  const lines = [
    `Redis Cluster: one Roomcast node, 10 rooms x (50 subscribers + 1 sender) at ${RATE_PER_ROOM} msg/s per room (${int(RATE_PER_ROOM * 10 * 51)} copies/s), over one Redis and over 3 masters + 3 replicas:`,
    '',
    '| Redis | delivered copies/s | p50 / p99 | lost / dup | Roomcast CPU per copy | Redis CPU per message: masters | replicas |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const outcome of [results.oneRedis, results.cluster]) {
    if (!ran(outcome)) {
      lines.push(`| | not run: ${outcome.notRun} | | | | | |`);
      continue;
    }
    const s = outcome.step;
    lines.push(
      `| ${outcome.label} | ${int(s.deliveredCopiesPerSecond)} | ${fixed(s.p50Ms)} / ${fixed(s.p99Ms)} ms | ${int(s.lost)} / ${int(s.duplicates)} | ${fixed(s.serverCpuUsPerCopy, 2)} µs | ` +
        `${fixed(outcome.redisCpuUsPerMessage.masters)} µs | ${fixed(outcome.redisCpuUsPerMessage.replicas)} µs |`,
    );
  }
  lines.push('', 'The cost of REDIS_WAIT_REPLICAS=1 on the cluster: POST /rooms/:room/messages, 32 closed-loop lanes:', '');
  lines.push('| REDIS_WAIT_REPLICAS | requests/s | p50 / p99 | failed |', '|---|---|---|---|');
  for (const [wait, outcome] of [['0', results.publishNoWait], ['1', results.publishWait]] as const) {
    if (!ran(outcome)) {
      lines.push(`| ${wait} | not run: ${outcome.notRun} | | |`);
      continue;
    }
    lines.push(`| ${wait} | ${int(outcome.requestsPerSecond)} | ${fixed(outcome.p50Ms, 2)} / ${fixed(outcome.p99Ms, 2)} ms | ${int(outcome.failed)} |`);
  }
  return lines.join('\n');
}
