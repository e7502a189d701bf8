import { COPIES_PER_MESSAGE, type FanoutResult, type StepResult } from './scenarios/fanout.js';
import type { DjangoResult } from './scenarios/django.js';
import type { HttpResult } from './scenarios/http-publish.js';
import type { IdleResult } from './scenarios/idle.js';
import type { ClusterResults } from './scenarios/cluster.js';
import type { BigRoomResult, BigRoomStep } from './scenarios/big-room.js';
import type { StormResult } from './scenarios/storm.js';
import { crowdTables, crowdTargets } from './report-crowd.js';

/** A scenario that did not run, and why (no redis-server, the Redis backend missing, time). */
export interface NotRun {
  notRun: string;
}
export type Outcome<T> = T | NotRun;
export const ran = <T>(outcome: Outcome<T> | undefined): outcome is T =>
  outcome !== undefined && !(typeof outcome === 'object' && outcome !== null && 'notRun' in outcome);

export interface Machine {
  cores: number;
  model: string;
  node: string;
  kernel: string;
  memoryGiB: number;
  openFilesLimit: string;
}

export interface Quiet {
  loadAverageBefore: number[];
  loadAverageAfter: number[];
  /** Mean share of all cores busy with work other than the bench's own processes, per step. */
  foreignBusyMeanPercent: number;
  foreignBusyMaxPercent: number;
}

export interface BenchResults {
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  quiet: Quiet;
  fanout: {
    baseline: Outcome<FanoutResult>;
    embedded: Outcome<FanoutResult>;
    redisOneNode: Outcome<FanoutResult>;
    redisTwoNodes: Outcome<FanoutResult>;
    /** The peers (absent in older results). */
    socketIo?: Outcome<FanoutResult>;
    socketIoTwo?: Outcome<FanoutResult>;
    djangoPubsub?: Outcome<FanoutResult>;
    djangoCore?: Outcome<FanoutResult>;
  };
  http: { baseline: Outcome<HttpResult>; embedded: Outcome<HttpResult> };
  /** Django `group_send` stream received through the bridge and by daphne (absent in older results). */
  django?: Outcome<DjangoResult>;
  idle: { sockets: number; baseline: Outcome<IdleResult>; roomcast: Outcome<IdleResult>; socketIo?: Outcome<IdleResult> }[];
  /** Reconnect storm and big rooms (absent in older results). */
  storm?: { baseline: Outcome<StormResult>; roomcast: Outcome<StormResult> };
  bigRoom?: { baseline: Outcome<BigRoomResult>; roomcast: Outcome<BigRoomResult> };
  /** The Redis Cluster rows (absent in older results, and when not run). */
  cluster?: ClusterResults;
  targets: Target[];
}

/** One line of the closing verdict: a figure, the baseline's, their ratio, the target, met or not. */
export interface Target {
  what: string;
  roomcast: string;
  baseline: string;
  ratio: string;
  target: string;
  met: boolean | undefined;
  note: string;
}

const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const fixed = (value: number, digits = 1): string => value.toFixed(digits);
const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`;
const ratioOf = (value: number | undefined, base: number | undefined): number | undefined =>
  value === undefined || base === undefined || base === 0 ? undefined : value / base;
const showRatio = (ratio: number | undefined): string => (ratio === undefined ? 'n/a' : `${ratio.toFixed(2)}x`);
const why = (outcome: Outcome<unknown> | undefined): string =>
  outcome && typeof outcome === 'object' && 'notRun' in outcome ? `not run: ${outcome.notRun}` : 'not run';

/**
 * The step at 81,600 copies/s, where CPU per copy is compared. Its CPU figure stands even if the
 * step missed the latency bar, as long as (nearly) every copy was delivered; the note says so.
 */
function cpuAtReference(outcome: Outcome<FanoutResult>): StepResult | undefined {
  const step = ran(outcome) ? outcome.reference : undefined;
  return step && step.deliveredCopies >= 0.97 * step.sentMessages * COPIES_PER_MESSAGE ? step : undefined;
}

/** Works out every target of the issue from the results, met or not. */
export function judge(results: BenchResults): Target[] {
  const targets: Target[] = [];
  const { baseline, embedded, redisOneNode, redisTwoNodes } = results.fanout;
  const baseRef = cpuAtReference(baseline);
  const baseNote = baseRef && !baseRef.pass ? `; the baseline's step failed (${baseRef.failures.join('; ')})` : '';

  const cpuTarget = (label: string, outcome: Outcome<FanoutResult>, limit: number, absoluteUs?: number): void => {
    const step = cpuAtReference(outcome);
    const ratio = ratioOf(step?.serverCpuUsPerCopy, baseRef?.serverCpuUsPerCopy);
    const met = step === undefined ? undefined : absoluteUs !== undefined ? step.serverCpuUsPerCopy <= absoluteUs : ratio !== undefined && ratio <= limit;
    targets.push({
      what: `server CPU per delivered copy at 81,600 copies/s, ${label}`,
      roomcast: step ? `${fixed(step.serverCpuUsPerCopy, 2)} µs` : ran(outcome) ? 'reference step failed' : why(outcome),
      baseline: baseRef ? `${fixed(baseRef.serverCpuUsPerCopy, 2)} µs` : 'n/a',
      ratio: showRatio(ratio),
      target: absoluteUs !== undefined ? `≤ ${absoluteUs} µs (Socket.IO over Redis)` : `≤ ${limit}x`,
      met,
      note: step
        ? `server CPU ${fixed(step.serverCpuPercent, 0)}% of a core` +
          (step.pass ? '' : `; the step itself failed (${step.failures.join('; ')})`) +
          (step.window.cpu.redis === undefined ? '' : `; redis-server adds ${fixed((step.window.cpu.redis * 1e6) / step.deliveredCopies, 2)} µs/copy`) +
          baseNote
        : '',
    });
  };
  cpuTarget('one node, embedded', embedded, 1.25);
  cpuTarget('one node, Redis', redisOneNode, 1.25);
  cpuTarget('two nodes, Redis (both nodes)', redisTwoNodes, Infinity, 6);

  const maxTarget = (label: string, outcome: Outcome<FanoutResult>, limit: number): void => {
    const best = ran(outcome) ? outcome.best : undefined;
    const base = ran(baseline) ? baseline.best : undefined;
    const ratio = ratioOf(best?.deliveredCopiesPerSecond, base?.deliveredCopiesPerSecond);
    const baseLimit = ran(baseline) ? baseline.limit : '';
    targets.push({
      what: `max delivered copies/s (0 loss, p99 < 100 ms), ${label}`,
      roomcast: best ? `${int(best.deliveredCopiesPerSecond)} (p99 ${fixed(best.p99Ms)} ms)` : ran(outcome) ? 'no step passed' : why(outcome),
      baseline: base ? `${int(base.deliveredCopiesPerSecond)} (p99 ${fixed(base.p99Ms)} ms)` : 'n/a',
      ratio: showRatio(ratio),
      target: `≥ ${limit}x`,
      met: ran(outcome) ? ratio !== undefined && ratio >= limit : undefined,
      note: ran(outcome) ? `limit: ${outcome.limit}; baseline's limit: ${baseLimit}` : '',
    });
  };
  maxTarget('one node, embedded', embedded, 0.9);
  maxTarget('one node, Redis', redisOneNode, 0.9);
  maxTarget('two nodes, Redis', redisTwoNodes, 0.8);

  const at10k = results.idle.find((row) => row.sockets === 10_000);
  if (at10k) {
    const rc = ran(at10k.roomcast) ? at10k.roomcast : undefined;
    const base = ran(at10k.baseline) ? at10k.baseline : undefined;
    const ratio = ratioOf(rc?.rssPerConnectionBytes, base?.rssPerConnectionBytes);
    targets.push({
      what: 'RSS per idle connection at 10,000 connections',
      roomcast: rc ? kb(rc.rssPerConnectionBytes) : why(at10k.roomcast),
      baseline: base ? kb(base.rssPerConnectionBytes) : 'n/a',
      ratio: showRatio(ratio),
      target: '≤ 1.5x',
      met: rc ? ratio !== undefined && ratio <= 1.5 : undefined,
      note: '',
    });
  }
  if (at10k) {
    const rc = ran(at10k.roomcast) ? at10k.roomcast : undefined;
    const base = ran(at10k.baseline) ? at10k.baseline : undefined;
    const ratio = ratioOf(rc?.connectsPerSecond, base?.connectsPerSecond);
    targets.push({
      what: 'connects/s while opening 10,000 idle sockets (joined: greeted with presence)',
      roomcast: rc ? int(rc.connectsPerSecond) : why(at10k.roomcast),
      baseline: base ? int(base.connectsPerSecond) : 'n/a',
      ratio: showRatio(ratio),
      target: '≥ 0.7x',
      met: rc ? ratio !== undefined && ratio >= 0.7 : undefined,
      note: '',
    });
  }
  const httpRc = ran(results.http.embedded) ? results.http.embedded : undefined;
  const httpBase = ran(results.http.baseline) ? results.http.baseline : undefined;
  const httpRatio = ratioOf(httpRc?.requestsPerSecond, httpBase?.requestsPerSecond);
  targets.push({
    what: 'POST /rooms/:room/messages requests/s (API key), embedded',
    roomcast: httpRc ? `${int(httpRc.requestsPerSecond)} (${fixed(httpRc.serverCpuUsPerRequest)} µs/request)` : why(results.http.embedded),
    baseline: httpBase ? `${int(httpBase.requestsPerSecond)} (${fixed(httpBase.serverCpuUsPerRequest)} µs/request)` : 'n/a',
    ratio: showRatio(httpRatio),
    target: '≥ 0.85x',
    met: httpRc ? httpRatio !== undefined && httpRatio >= 0.85 : undefined,
    note: httpRc ? `generator CPU ${fixed(httpRc.generatorCpuPercent, 0)}%` : '',
  });
  const at18k = results.idle.find((row) => row.sockets === 18_000);
  if (at18k) {
    const rc = ran(at18k.roomcast) ? at18k.roomcast : undefined;
    const base = ran(at18k.baseline) ? at18k.baseline : undefined;
    const ratio = ratioOf(rc?.p99Ms, base?.p99Ms);
    const allOpen = rc !== undefined && rc.error === undefined && rc.openAtEnd === rc.sockets;
    const clean = rc !== undefined && rc.lost === 0 && rc.duplicates === 0 && rc.misrouted === 0 && rc.deliveredCopies > 0;
    targets.push({
      what: '18,000 connections: all open, 1 msg/s/room with 0 loss, p99 vs baseline',
      roomcast: rc ? `${int(rc.openAtEnd)} open, ${int(rc.lost)} lost, p99 ${fixed(rc.p99Ms)} ms` : why(at18k.roomcast),
      baseline: base ? `${int(base.openAtEnd)} open, ${int(base.lost)} lost, p99 ${fixed(base.p99Ms)} ms` : 'n/a',
      ratio: showRatio(ratio),
      target: 'all open, 0 lost, p99 ≤ 1.5x',
      met: rc ? allOpen && clean && ratio !== undefined && ratio <= 1.5 : undefined,
      note: rc?.error ?? '',
    });
  }
  targets.push(...crowdTargets(results));
  return targets;
}

function fanoutRow(name: string, outcome: Outcome<FanoutResult> | undefined, base: Outcome<FanoutResult>): string {
  if (!ran(outcome)) return `| ${name} | ${why(outcome)} | | | | | | | |`;
  const low = outcome.low;
  const ref = outcome.reference;
  const best = outcome.best;
  const baseLow = ran(base) ? base.low : undefined;
  const baseRef = ran(base) ? base.reference : undefined;
  const baseBest = ran(base) ? base.best : undefined;
  const same = outcome === base;
  const r = (value: number | undefined, baseValue: number | undefined): string =>
    same || value === undefined ? '' : ` (${showRatio(ratioOf(value, baseValue))})`;
  /** A step's CPU per copy, with what went wrong in it when something did. */
  const cpu = (step: StepResult | undefined, baseStep: StepResult | undefined): string => {
    if (!step) return '-';
    const lossy = step.lost > 0 || step.duplicates > 0 ? `, ${fixed((100 * step.lost) / Math.max(1, step.sentMessages * COPIES_PER_MESSAGE), 0)}% lost${step.duplicates ? `, ${int(step.duplicates)} dup` : ''}` : '';
    return `${fixed(step.serverCpuUsPerCopy, 2)} µs${r(step.serverCpuUsPerCopy, baseStep?.serverCpuUsPerCopy)}${lossy}`;
  };
  return [
    name,
    cpu(low, baseLow),
    low ? `${fixed(low.p50Ms)} / ${fixed(low.p99Ms)} ms` : '-',
    cpu(ref, baseRef),
    ref ? `${fixed(ref.p50Ms)} / ${fixed(ref.p99Ms)} ms` : '-',
    best ? `${int(best.deliveredCopiesPerSecond)}${r(best.deliveredCopiesPerSecond, baseBest?.deliveredCopiesPerSecond)}` : 'none passed',
    best ? `${fixed(best.p50Ms)} / ${fixed(best.p99Ms)} ms` : '-',
    best ? `${fixed(best.serverCpuPercent, 0)}%, ${fixed(best.serverCpuUsPerCopy, 2)} µs` : '-',
    outcome.limit,
  ]
    .join(' | ')
    .replace(/^/, '| ')
    .concat(' |');
}

/** The tables `npm run bench` prints and the README shows (Markdown, readable as plain text). */
export function renderTables(results: BenchResults): string {
  const lines: string[] = [];
  const m = results.machine;
  lines.push(
    `Machine: ${m.cores} cores, ${m.model}, Node ${m.node}, Linux ${m.kernel}, ${m.memoryGiB} GiB, open files ${m.openFilesLimit}.`,
    `Run ${results.startedAt}, ${Math.round(results.durationSeconds)} s. Load average before ${results.quiet.loadAverageBefore.map((v) => v.toFixed(2)).join(' ')}, ` +
      `after ${results.quiet.loadAverageAfter.map((v) => v.toFixed(2)).join(' ')}; other work during steps: mean ${fixed(results.quiet.foreignBusyMeanPercent, 0)}%, ` +
      `max ${fixed(results.quiet.foreignBusyMaxPercent, 0)}% of all cores.`,
    '',
    'Fan-out: 10 rooms x (50 subscribers + 1 sender that also receives), 64-byte texts; ratios to the bare ws baseline of the same run.',
    '',
    '| system | CPU/copy at 10,200 copies/s | p50 / p99 there | CPU/copy at 81,600 copies/s | p50 / p99 there | max copies/s (0 loss, p99 < 100 ms) | p50 / p99 at max | server CPU at max | what limited it |',
    '|---|---|---|---|---|---|---|---|---|',
    fanoutRow('bare ws (baseline)', results.fanout.baseline, results.fanout.baseline),
    fanoutRow('Roomcast, 1 node, embedded', results.fanout.embedded, results.fanout.baseline),
    fanoutRow('Roomcast, 1 node, Redis', results.fanout.redisOneNode, results.fanout.baseline),
    fanoutRow('Roomcast, 2 nodes, Redis', results.fanout.redisTwoNodes, results.fanout.baseline),
    fanoutRow('Socket.IO 4, 1 process', results.fanout.socketIo, results.fanout.baseline),
    fanoutRow('Socket.IO 4, 2 processes, Redis adapter', results.fanout.socketIoTwo, results.fanout.baseline),
    fanoutRow('Django Channels pubsub + daphne', results.fanout.djangoPubsub, results.fanout.baseline),
    fanoutRow('Django Channels core + daphne', results.fanout.djangoCore, results.fanout.baseline),
    '',
    'Idle connections on one node (rooms of 50), then 1 msg/s per room to all of them for a while (at 18,000 longer than the 30 s heartbeat):',
    '',
    '| sockets | system | open | connects/s | RSS per connection | delivery window | delivered / expected | lost | dup | p50 / p99 |',
    '|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const row of results.idle) {
    const systems = [['bare ws', row.baseline], ['Roomcast', row.roomcast], ['Socket.IO 4', row.socketIo]] as const;
    for (const [name, outcome] of systems) {
      if (outcome === undefined) continue;
      if (!ran(outcome)) {
        lines.push(`| ${int(row.sockets)} | ${name} | ${why(outcome)} | | | | | | | |`);
        continue;
      }
      const base = ran(row.baseline) ? row.baseline : undefined;
      const peer = name !== 'bare ws' && base !== undefined;
      const vs = peer ? ` (${showRatio(ratioOf(outcome.rssPerConnectionBytes, base.rssPerConnectionBytes))})` : '';
      const connectVs = peer ? ` (${showRatio(ratioOf(outcome.connectsPerSecond, base.connectsPerSecond))})` : '';
      lines.push(
        `| ${int(row.sockets)} | ${name} | ${int(outcome.openAtEnd)}${outcome.error ? ` (${outcome.error})` : ''} | ${int(outcome.connectsPerSecond)}${connectVs} | ` +
          `${kb(outcome.rssPerConnectionBytes)}${vs} | ${outcome.deliverySeconds} s | ${int(outcome.deliveredCopies)} / ${int(outcome.expectedCopies)} | ${int(outcome.lost)} | ` +
          `${int(outcome.duplicates)} | ${fixed(outcome.p50Ms)} / ${fixed(outcome.p99Ms)} ms |`,
      );
    }
  }
  lines.push('', 'POST /rooms/:room/messages, 32 closed-loop lanes (one room each, one subscriber per room):', '');
  lines.push('| system | requests/s | p50 / p99 | server CPU per request | delivered / lost / dup | generator CPU |', '|---|---|---|---|---|---|');
  const baseHttp = ran(results.http.baseline) ? results.http.baseline : undefined;
  for (const [name, outcome] of [['bare ws + node:http', results.http.baseline], ['Roomcast, embedded', results.http.embedded]] as const) {
    if (!ran(outcome)) {
      lines.push(`| ${name} | ${why(outcome)} | | | | |`);
      continue;
    }
    const vs = outcome !== baseHttp && baseHttp ? ` (${showRatio(ratioOf(outcome.requestsPerSecond, baseHttp.requestsPerSecond))})` : '';
    lines.push(
      `| ${name} | ${int(outcome.requestsPerSecond)}${vs} | ${fixed(outcome.p50Ms, 2)} / ${fixed(outcome.p99Ms, 2)} ms | ${fixed(outcome.serverCpuUsPerRequest)} µs | ` +
        `${int(outcome.deliveredCopies)} / ${int(outcome.lost)} / ${int(outcome.duplicates)} | ${fixed(outcome.generatorCpuPercent, 0)}% |`,
    );
  }
  lines.push(...djangoRows(results.django));
  lines.push(...crowdTables(results));
  lines.push('', 'Targets:', '', '| target | Roomcast | bare ws | ratio | goal | met | note |', '|---|---|---|---|---|---|---|');
  for (const t of results.targets) {
    const met = t.met === undefined ? 'not run' : t.met ? 'yes' : 'NO';
    lines.push(`| ${t.what} | ${t.roomcast} | ${t.baseline} | ${t.ratio} | ${t.target} | ${met} | ${t.note} |`);
  }
  return lines.join('\n');
}

/** Django -> sockets: the same group_send stream, through the bridge and through daphne. */
function djangoRows(outcome: Outcome<DjangoResult> | undefined): string[] {
  const lines = ['', 'Django group_send -> sockets (core layer, one Python sender in one event loop, one socket on each side):', ''];
  if (!ran(outcome)) return [...lines, why(outcome)];
  lines.push(
    `${int(outcome.messages)} messages, sent at ${int(outcome.sentPerSecond)} group_send/s.`,
    '',
    '| received by | messages/s (first send to last arrival) | received / lost / dup | p50 / p99 send to socket |',
    '|---|---|---|---|',
  );
  for (const [name, side] of [['Roomcast socket, through the bridge (stored, then fanned out)', outcome.roomcast], ["daphne, the tutorial consumer (channels_redis's own delivery)", outcome.daphne]] as const) {
    lines.push(`| ${name} | ${int(side.perSecond)} | ${int(side.received)} / ${int(side.lost)} / ${int(side.duplicates)} | ${fixed(side.p50Ms)} / ${fixed(side.p99Ms)} ms |`);
  }
  return lines;
}
