import type { BigRoomStep } from './scenarios/big-room.js';
import type { StormResult } from './scenarios/storm.js';
import { ran, type BenchResults, type Outcome, type Target } from './report.js';

/** The crowd's tables and targets: the reconnect storm and the big rooms. */

const int = (value: number): string => Math.round(value).toLocaleString('en-US');
const ratio = (value: number | undefined, base: number | undefined): number | undefined =>
  value === undefined || base === undefined || base === 0 ? undefined : value / base;
const show = (value: number | undefined): string => (value === undefined ? 'n/a' : `${value.toFixed(2)}x`);
const why = (outcome: Outcome<unknown> | undefined): string =>
  outcome && typeof outcome === 'object' && 'notRun' in outcome ? `not run: ${outcome.notRun}` : 'not run';

/** Who was busy during a storm: the survivor and the generator (percent of a core), all cores (older results: n/a). */
const busy = (outcome: StormResult): string =>
  outcome.survivorCpuPercent === undefined || outcome.generatorCpuPercent === undefined || outcome.machineBusyPercent === undefined
    ? 'n/a'
    : `${outcome.survivorCpuPercent.toFixed(0)}% / ${outcome.generatorCpuPercent.toFixed(0)}% / ${outcome.machineBusyPercent.toFixed(0)}%`;

function stormRow(name: string, outcome: Outcome<StormResult> | undefined, base: StormResult | undefined): string {
  if (!ran(outcome)) return `| ${name} | ${why(outcome)} | | | | | | | |`;
  const vs = (value: number, baseValue: number | undefined): string => (outcome === base || !base ? '' : ` (${show(ratio(value, baseValue))})`);
  const checked = outcome.label.startsWith('bare') ? 'not checked (no IDs)' : `${int(outcome.missing)} / ${int(outcome.duplicates)} of ${int(outcome.checked)} checked`;
  return (
    `| ${name} | ${int(outcome.back)} / ${int(outcome.sockets)}${outcome.error ? ` (${outcome.error})` : ''} | ${outcome.seconds.toFixed(1)} s${vs(outcome.seconds, base?.seconds)} | ` +
    `${outcome.closedSeconds.toFixed(1)} s | ${int(outcome.retries)} | ${int(outcome.survivorCpuUsPerReconnect)} µs${vs(outcome.survivorCpuUsPerReconnect, base?.survivorCpuUsPerReconnect)} | ` +
    `${int(outcome.survivorPeakRssBytes / 2 ** 20)} MiB | ${busy(outcome)} | ${outcome.label.startsWith('bare') ? '-' : int(outcome.incomplete)} / ${checked} |`
  );
}

function bigRoomRow(name: string, what: string, step: BigRoomStep | undefined, base: BigRoomStep | undefined, error?: string): string {
  if (!step) return `| ${what} | ${name} | ${error ?? 'not run'} | | | |`;
  const vs = (value: number, baseValue: number | undefined): string => (step === base || !base ? '' : ` (${show(ratio(value, baseValue))})`);
  return (
    `| ${what} | ${name} | ${int(step.deliveredCopies)} / ${int(step.lost)} / ${int(step.duplicates)} | ${step.serverCpuUsPerCopy.toFixed(2)} µs${vs(step.serverCpuUsPerCopy, base?.serverCpuUsPerCopy)} | ` +
    `${step.p50Ms.toFixed(1)} / ${step.p99Ms.toFixed(1)} ms${vs(step.p99Ms, base?.p99Ms)} | ${step.serverCpuPercent.toFixed(0)}% |`
  );
}

export function crowdTables(results: BenchResults): string[] {
  const lines: string[] = [];
  if (results.storm) {
    const base = ran(results.storm.baseline) ? results.storm.baseline : undefined;
    const sockets = base?.sockets ?? (ran(results.storm.roomcast) ? results.storm.roomcast.sockets : 0);
    lines.push(
      '',
      `Reconnect storm: ${int(sockets)} sockets in rooms of 50 on node A while 1 message a second per room is posted to node B; A gets SIGTERM; every client comes back to B after @roomcast/client's backoff (with jitter). Roomcast's resume with since (Redis backend) and are done at recovered; the bare server's just reconnect:`,
      '',
      '| system | back | until all back | A closed all in | failed upgrades (retried) | survivor CPU per reconnect | survivor peak RSS | busy: survivor / generator / all cores | incomplete / missing / dup |',
      '|---|---|---|---|---|---|---|---|---|',
      stormRow('bare ws', results.storm.baseline, base),
      stormRow('Roomcast, resume over Redis', results.storm.roomcast, base),
    );
  }
  if (results.bigRoom) {
    const base = ran(results.bigRoom.baseline) ? results.bigRoom.baseline : undefined;
    const rc = ran(results.bigRoom.roomcast) ? results.bigRoom.roomcast : undefined;
    const rcError = rc?.error ?? why(results.bigRoom.roomcast);
    const baseError = base?.error ?? why(results.bigRoom.baseline);
    lines.push('', 'Big rooms, one room each, one of its members sending; churn: people joining and as many leaving each second (each stays 4 s):', '');
    lines.push('| room | system | delivered / lost / dup | server CPU per copy | p50 / p99 | server CPU |', '|---|---|---|---|---|---|');
    const rows: Array<[string, (r: typeof rc) => BigRoomStep | undefined]> = [
      ['one room of subscribers at 16 msg/s', (r) => r?.loud],
      ['one room at 1 msg/s, no churn', (r) => r?.crowdQuiet],
      ['the same room while people come and go', (r) => r?.crowdChurn],
    ];
    for (const [what, pick] of rows) {
      const label = `${what} (${int(pick(base)?.subscribers ?? pick(rc)?.subscribers ?? 0)})${pick(rc)?.churnPerSecond ? `, ${pick(rc)!.churnPerSecond}/s` : ''}`;
      lines.push(bigRoomRow('bare ws', label, pick(base), pick(base), baseError), bigRoomRow('Roomcast', label, pick(rc), pick(base), rcError));
    }
  }
  return lines;
}

export function crowdTargets(results: BenchResults): Target[] {
  const targets: Target[] = [];
  if (results.storm) {
    const rc = ran(results.storm.roomcast) ? results.storm.roomcast : undefined;
    const base = ran(results.storm.baseline) ? results.storm.baseline : undefined;
    const clean = rc !== undefined && rc.error === undefined && rc.back === rc.sockets && rc.incomplete === 0 && rc.checked > 0 && rc.missing === 0 && rc.duplicates === 0;
    const timeRatio = ratio(rc?.seconds, base?.seconds);
    targets.push({
      what: `reconnect storm of ${int(rc?.sockets ?? base?.sockets ?? 0)}: all recovered complete, 0 lost, time vs bare`,
      roomcast: rc ? `${int(rc.back)} back, ${int(rc.incomplete)} incomplete, ${int(rc.missing)} missing, ${rc.seconds.toFixed(1)} s` : why(results.storm.roomcast),
      baseline: base ? `${int(base.back)} back, ${base.seconds.toFixed(1)} s` : 'n/a',
      ratio: show(timeRatio),
      target: 'all complete, 0 lost, ≤ 2x',
      met: rc ? clean && timeRatio !== undefined && timeRatio <= 2 : undefined,
      note: rc ? `node A took ${rc.closedSeconds.toFixed(1)} s to close every socket; busy meanwhile: survivor / generator / all cores ${busy(rc)}` : '',
    });
    const cpuRatio = ratio(rc?.survivorCpuUsPerReconnect, base?.survivorCpuUsPerReconnect);
    targets.push({
      what: 'reconnect storm: survivor CPU per reconnect (with the same live traffic)',
      roomcast: rc ? `${int(rc.survivorCpuUsPerReconnect)} µs` : why(results.storm.roomcast),
      baseline: base ? `${int(base.survivorCpuUsPerReconnect)} µs` : 'n/a',
      ratio: show(cpuRatio),
      target: '≤ 1.5x',
      met: rc ? cpuRatio !== undefined && cpuRatio <= 1.5 : undefined,
      note: '',
    });
  }
  if (results.bigRoom) {
    const rc = ran(results.bigRoom.roomcast) ? results.bigRoom.roomcast : undefined;
    const base = ran(results.bigRoom.baseline) ? results.bigRoom.baseline : undefined;
    const loudRatio = ratio(rc?.loud?.serverCpuUsPerCopy, base?.loud?.serverCpuUsPerCopy);
    targets.push({
      what: `big room of ${int(rc?.loud?.subscribers ?? 0)} at 16 msg/s: server CPU per copy`,
      roomcast: rc?.loud ? `${rc.loud.serverCpuUsPerCopy.toFixed(2)} µs, ${int(rc.loud.lost)} lost` : (rc?.error ?? why(results.bigRoom.roomcast)),
      baseline: base?.loud ? `${base.loud.serverCpuUsPerCopy.toFixed(2)} µs` : 'n/a',
      ratio: show(loudRatio),
      target: '≤ 1.0x, 0 lost',
      met: rc ? rc.loud !== undefined && rc.loud.lost === 0 && loudRatio !== undefined && loudRatio <= 1 : undefined,
      note: '',
    });
    const churnRatio = ratio(rc?.crowdChurn?.p99Ms, rc?.crowdQuiet?.p99Ms);
    targets.push({
      what: `room of ${int(rc?.crowdQuiet?.subscribers ?? 0)} at 1 msg/s: p99 with 50 joins and 50 leaves a second vs without`,
      roomcast: rc?.crowdChurn ? `${rc.crowdChurn.p99Ms.toFixed(1)} ms churning, ${rc.crowdQuiet?.p99Ms.toFixed(1)} ms quiet, ${int(rc.crowdChurn.lost)} lost` : (rc?.error ?? why(results.bigRoom.roomcast)),
      baseline: base?.crowdChurn ? `${base.crowdChurn.p99Ms.toFixed(1)} ms churning, ${base.crowdQuiet?.p99Ms.toFixed(1)} ms quiet` : 'n/a',
      ratio: show(churnRatio),
      target: '≤ 1.5x',
      met: rc ? rc.crowdChurn !== undefined && rc.crowdChurn.lost === 0 && churnRatio !== undefined && churnRatio <= 1.5 : undefined,
      note: 'ratio of Roomcast to itself; the bare figures show the same churn without presence',
    });
  }
  return targets;
}
