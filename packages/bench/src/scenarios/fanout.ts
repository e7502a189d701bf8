import { Fleet, joinInBatches, pace } from '../fleet.js';
import { Meter, type Window } from '../meter.js';
import { sleep } from '../procs.js';
import type { ServerKind } from '../servers.js';

/**
 * Scenarios 1, 2 and 5: 10 rooms of 50 subscribers plus one sender each (the sender gets its
 * own copy too, on both servers: 51 copies per message). The rate steps up until a step loses a
 * copy, duplicates one, or has p99 over 100 ms; the last passing step is the maximum.
 */
export const ROOMS = 10;
export const SUBSCRIBERS_PER_ROOM = 50;
export const COPIES_PER_MESSAGE = SUBSCRIBERS_PER_ROOM + 1;
/** 160 messages a second per room: 81,600 copies a second, where CPU per copy is compared. */
export const REFERENCE_RATE_PER_ROOM = 160;
/** 20 messages a second per room: 10,200 copies a second, a load every peer can carry. */
export const LOW_RATE_PER_ROOM = 20;
const LOW_STEP_MS = 4000;
const STEP_FACTOR = 1.2;
/** Bisections between the last passing and the first failing step. */
const REFINEMENTS = 2;
/** No step above this (copies/s): bounds the run if both sides keep up. */
const MAX_COPIES_PER_SECOND = 1_200_000;
const REFERENCE_STEP_MS = 6000;
const STEP_MS = 3500;
const WARMUP_MS = 2000;
const DRAIN_MS = 3000;
const P99_LIMIT_MS = 100;
/** The generator kept pace if it sent at least this share of the step's messages. */
const PACE_SHARE = 0.98;

export interface FanoutTarget {
  label: string;
  kind: ServerKind;
  /** Node the senders join, and node the subscribers join (the same on one node). */
  senderPort: number;
  subscriberPort: number;
  /** PIDs of the server processes whose CPU is "server CPU", by name. */
  nodes: Record<string, number>;
  /** Other processes to watch (redis-server), reported apart. */
  others: Record<string, number>;
  /** Only the warm-up and the reference step, no ladder (a comparison at one rate). */
  referenceOnly?: boolean;
  /** Messages a second per room of the warm-up and the reference step (REFERENCE_RATE_PER_ROOM). */
  referenceRatePerRoom?: number;
}

export interface StepResult {
  ratePerRoom: number;
  targetCopiesPerSecond: number;
  sentMessages: number;
  deliveredCopies: number;
  deliveredCopiesPerSecond: number;
  lost: number;
  duplicates: number;
  misrouted: number;
  closedSockets: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Summed over the server's nodes, percent of one core. */
  serverCpuPercent: number;
  serverCpuUsPerCopy: number;
  window: Window;
  pass: boolean;
  failures: string[];
}

export interface FanoutResult {
  label: string;
  kind: ServerKind;
  /** The step at 10,200 copies/s. */
  low?: StepResult | undefined;
  /** The step at 81,600 copies/s. */
  reference: StepResult | undefined;
  /** The last passing step. */
  best: StepResult | undefined;
  firstFailing: StepResult | undefined;
  /** What stopped the ladder: the server, the generator, the machine, or the cap. */
  limit: string;
  steps: StepResult[];
  log: string[];
}

/** Underscores, not dashes: the Django tutorial routes `\w+` room names only. */
export const roomName = (index: number): string => `bench_${index}`;

function diagnose(step: StepResult | undefined, nodes: string[], outOfTime: boolean): string {
  if (!step && outOfTime) return 'the bench ran out of its time budget before a step failed';
  if (!step) return `cap of ${MAX_COPIES_PER_SECOND.toLocaleString('en-US')} copies/s reached`;
  const w = step.window;
  const signs: string[] = [];
  const generatorBusy = w.generatorCpuPercent >= 85 || w.generatorLoopDelayP99Ms > 50 || step.failures.some((f) => f.startsWith('generator'));
  if (generatorBusy) signs.push(`generator (CPU ${w.generatorCpuPercent.toFixed(0)}%, loop delay p99 ${w.generatorLoopDelayP99Ms.toFixed(0)} ms)`);
  for (const name of nodes) if (w.cpuPercent[name]! >= 85) signs.push(`${name} (CPU ${w.cpuPercent[name]!.toFixed(0)}%)`);
  if (w.machineBusyPercent >= 90) signs.push(`machine (${w.machineBusyPercent.toFixed(0)}% of all cores busy)`);
  return signs.length ? signs.join(' + ') : `unclear (no process saturated: ${step.failures.join('; ')})`;
}

export async function runFanout(target: FanoutTarget, deadline: number): Promise<FanoutResult> {
  const log: string[] = [];
  const say = (line: string): void => {
    log.push(line);
    process.stdout.write(`  [${target.label}] ${line}\n`);
  };
  const fleet = new Fleet({ kind: target.kind, port: target.subscriberPort, roomName, timeoutMs: 10_000 });
  const seats = [];
  for (let room = 0; room < ROOMS; room += 1) {
    for (let index = 0; index < SUBSCRIBERS_PER_ROOM; index += 1) seats.push({ room, port: target.subscriberPort });
  }
  const senderSeats = Array.from({ length: ROOMS }, (_, room) => ({ room, port: target.senderPort }));
  const nodeNames = Object.keys(target.nodes);
  const meter = new Meter({ ...target.nodes, ...target.others });
  const steps: StepResult[] = [];
  try {
    await joinInBatches(fleet, seats, 100, Date.now() + 30_000);
    const senders = await joinInBatches(fleet, senderSeats, ROOMS, Date.now() + 10_000);
    await sleep(300);

    const runStep = async (perRoom: number, ms: number): Promise<StepResult> => {
      fleet.tally.resetStep();
      const lostBefore = fleet.lost();
      meter.start();
      const { sent, seconds } = await pace(fleet, senders, perRoom, ms);
      await fleet.drain(DRAIN_MS);
      const window = meter.stop();
      const t = fleet.tally;
      const serverCpu = nodeNames.reduce((sum, name) => sum + window.cpu[name]!, 0);
      const step: StepResult = {
        ratePerRoom: perRoom,
        targetCopiesPerSecond: perRoom * ROOMS * COPIES_PER_MESSAGE,
        sentMessages: sent,
        deliveredCopies: t.copies,
        deliveredCopiesPerSecond: t.copies / seconds,
        lost: Math.max(0, fleet.lost() - lostBefore),
        duplicates: t.duplicates,
        misrouted: t.misrouted,
        closedSockets: fleet.closedCount(),
        p50Ms: t.latency.percentile(0.5) / 1000,
        p99Ms: t.latency.percentile(0.99) / 1000,
        maxMs: t.latency.max / 1000,
        serverCpuPercent: nodeNames.reduce((sum, name) => sum + window.cpuPercent[name]!, 0),
        serverCpuUsPerCopy: t.copies > 0 ? (serverCpu * 1e6) / t.copies : 0,
        window,
        pass: false,
        failures: [],
      };
      const f = step.failures;
      if (step.lost > 0) f.push(`${step.lost} copies lost`);
      if (step.duplicates > 0) f.push(`${step.duplicates} duplicates`);
      if (step.misrouted > 0) f.push(`${step.misrouted} misrouted`);
      if (step.closedSockets > 0) f.push(`${step.closedSockets} sockets closed`);
      if (fleet.tally.spotFailed > 0) f.push(`${fleet.tally.spotFailed} frames failed the spot check`);
      if (step.p99Ms >= P99_LIMIT_MS) f.push(`p99 ${step.p99Ms.toFixed(0)} ms`);
      if (sent < PACE_SHARE * perRoom * ROOMS * seconds) f.push(`generator sent only ${sent} of ${Math.round(perRoom * ROOMS * seconds)}`);
      step.pass = f.length === 0;
      steps.push(step);
      say(
        `${Math.round(step.targetCopiesPerSecond).toLocaleString('en-US').padStart(9)} copies/s target: ` +
          `${Math.round(step.deliveredCopiesPerSecond).toLocaleString('en-US')} delivered, p50 ${step.p50Ms.toFixed(1)} ms, ` +
          `p99 ${step.p99Ms.toFixed(1)} ms, server CPU ${step.serverCpuPercent.toFixed(0)}% ` +
          `(${step.serverCpuUsPerCopy.toFixed(2)} µs/copy), generator CPU ${window.generatorCpuPercent.toFixed(0)}% ` +
          `(loop p99 ${window.generatorLoopDelayP99Ms.toFixed(0)} ms), machine ${window.machineBusyPercent.toFixed(0)}% ` +
          `${step.pass ? 'PASS' : `FAIL: ${f.join('; ')}`}`,
      );
      return step;
    };

    // The gentle step first, so that a system the reference rate overwhelms still gets a figure.
    await pace(fleet, senders, LOW_RATE_PER_ROOM, 1000);
    await fleet.drain(DRAIN_MS);
    const low = await runStep(LOW_RATE_PER_ROOM, LOW_STEP_MS);

    // Warm-up: the JITs of both ends, at the reference rate; it must itself lose nothing.
    const referenceRate = target.referenceRatePerRoom ?? REFERENCE_RATE_PER_ROOM;
    await pace(fleet, senders, referenceRate, WARMUP_MS);
    await fleet.drain(DRAIN_MS);
    if (fleet.lost() > 0) say(`warm-up lost ${fleet.lost()} copies`);

    /**
     * A step that failed on latency alone (nothing lost, no socket closed) is run once more
     * after a pause: on a shared machine one stall of another process must not end the ladder.
     */
    const confirmedStep = async (perRoom: number, ms: number): Promise<StepResult> => {
      const first = await runStep(perRoom, ms);
      const latencyOnly = first.lost === 0 && first.duplicates === 0 && first.closedSockets === 0 && first.misrouted === 0;
      if (first.pass || !latencyOnly || Date.now() >= deadline) return first;
      await sleep(1000);
      await fleet.drain(DRAIN_MS);
      say('  the same step again, to tell a stall from a limit');
      return runStep(perRoom, ms);
    };

    const reference = await confirmedStep(referenceRate, REFERENCE_STEP_MS);
    let best = reference.pass ? reference : undefined;
    let failing = reference.pass ? undefined : reference;
    let rate = referenceRate;
    while (!failing && !target.referenceOnly && Date.now() < deadline) {
      rate = Math.round(rate * STEP_FACTOR);
      if (rate * ROOMS * COPIES_PER_MESSAGE > MAX_COPIES_PER_SECOND) break;
      await sleep(200);
      const step = await confirmedStep(rate, STEP_MS);
      if (step.pass) best = step;
      else failing = step;
    }
    // Up to two steps between the last pass and the first failure (to within ~5%), as long as no
    // socket was lost on the way.
    for (let split = 0; split < REFINEMENTS && best && failing && failing !== reference; split += 1) {
      if (fleet.closedCount() > 0 || Date.now() >= deadline || failing.ratePerRoom / best.ratePerRoom < 1.06) break;
      await sleep(1000);
      await fleet.drain(DRAIN_MS);
      const middle = Math.round(Math.sqrt(best.ratePerRoom * failing.ratePerRoom));
      if (middle <= best.ratePerRoom || middle >= failing.ratePerRoom) break;
      const step = await runStep(middle, STEP_MS);
      if (step.pass) best = step;
      else failing = step;
    }
    return {
      label: target.label,
      kind: target.kind,
      low,
      reference,
      best,
      firstFailing: failing,
      limit: diagnose(failing, nodeNames, Date.now() >= deadline),
      steps,
      log,
    };
  } finally {
    fleet.closeAll();
    await fleet.closed(3000);
  }
}
