import { Fleet, joinInBatches, pace, type Member } from '../fleet.js';
import { Meter } from '../meter.js';
import { sleep } from '../procs.js';
import type { ServerUnderTest } from '../servers.js';

/**
 * Scenario 7, big rooms: one room of LOUD_SUBSCRIBERS at LOUD_RATE messages a second (80,000
 * copies a second), then one of CROWD_SUBSCRIBERS at 1 a second, first quiet, then while
 * CHURN_PER_SECOND people a second join and as many leave. Every copy checked; server CPU per
 * copy and p99 beside the bare server under the same load.
 */
export const LOUD_SUBSCRIBERS = Number(process.env.BENCH_BIG_ROOM_SOCKETS ?? 5_000);
const LOUD_RATE = 16;
export const CROWD_SUBSCRIBERS = Number(process.env.BENCH_CROWD_SOCKETS ?? 10_000);
const CROWD_RATE = 1;
export const CHURN_PER_SECOND = 50;
/** Churners in the room at any time: each stays this many seconds. */
const CHURN_STAY_S = 4;
const STEP_MS = 8000;
const WARMUP_MS = 2000;
const DRAIN_MS = 5000;
const CONNECT_BATCH = 250;

export interface BigRoomStep {
  subscribers: number;
  ratePerSecond: number;
  churnPerSecond: number;
  sent: number;
  deliveredCopies: number;
  lost: number;
  duplicates: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuPercent: number;
  serverCpuUsPerCopy: number;
}

export interface BigRoomResult {
  label: string;
  loud: BigRoomStep | undefined;
  crowdQuiet: BigRoomStep | undefined;
  crowdChurn: BigRoomStep | undefined;
  error?: string;
}

const bigRoomName = (index: number): string => `big-${index}`;

async function step(fleet: Fleet, meter: Meter, sender: Member, perSecond: number, ms: number, churn: () => void): Promise<BigRoomStep> {
  fleet.tally.resetStep();
  const lostBefore = fleet.lost();
  meter.start();
  const churning = setInterval(churn, 1000 / Math.max(1, CHURN_PER_SECOND));
  let sent: number;
  try {
    ({ sent } = await pace(fleet, [sender], perSecond, ms));
  } finally {
    clearInterval(churning);
  }
  await fleet.drain(DRAIN_MS);
  const window = meter.stop();
  const t = fleet.tally;
  return {
    subscribers: fleet.members.length,
    ratePerSecond: perSecond,
    churnPerSecond: 0,
    sent,
    deliveredCopies: t.copies,
    lost: Math.max(0, fleet.lost() - lostBefore),
    duplicates: t.duplicates,
    p50Ms: t.latency.percentile(0.5) / 1000,
    p99Ms: t.latency.percentile(0.99) / 1000,
    serverCpuPercent: window.cpuPercent.server!,
    serverCpuUsPerCopy: t.copies > 0 ? (window.cpu.server! * 1e6) / t.copies : 0,
  };
}

/** One big room of `subscribers` (the first of them also sends), for as long as `body` runs. */
async function inOneRoom<T>(server: ServerUnderTest, room: number, subscribers: number, body: (fleet: Fleet, sender: Member) => Promise<T>): Promise<T> {
  const fleet = new Fleet({ kind: server.kind, port: server.port, roomName: bigRoomName, timeoutMs: 30_000 });
  try {
    const members = await joinInBatches(fleet, Array.from({ length: subscribers }, () => ({ room })), CONNECT_BATCH, Date.now() + 90_000);
    await sleep(500);
    return await body(fleet, members[0]!);
  } finally {
    fleet.closeAll();
    await fleet.closed(5000);
  }
}

export async function runBigRoom(server: ServerUnderTest): Promise<BigRoomResult> {
  const result: BigRoomResult = { label: server.label, loud: undefined, crowdQuiet: undefined, crowdChurn: undefined };
  const meter = new Meter({ server: server.proc.pid });
  try {
    result.loud = await inOneRoom(server, 0, LOUD_SUBSCRIBERS, async (fleet, sender) => {
      await pace(fleet, [sender], LOUD_RATE, WARMUP_MS);
      await fleet.drain(DRAIN_MS);
      return step(fleet, meter, sender, LOUD_RATE, STEP_MS, () => undefined);
    });
    await sleep(1000);
    await inOneRoom(server, 1, CROWD_SUBSCRIBERS, async (fleet, sender) => {
      result.crowdQuiet = await step(fleet, meter, sender, CROWD_RATE, STEP_MS, () => undefined);
      // People coming and going: each joins, stays a few seconds, leaves; not counted as receivers.
      const churners = new Fleet({ kind: server.kind, port: server.port, roomName: bigRoomName, timeoutMs: 30_000 });
      const present: Member[] = [];
      const churn = (): void => {
        present.push(churners.open(1));
        if (present.length > CHURN_PER_SECOND * CHURN_STAY_S) present.shift()!.socket.close();
      };
      try {
        // Fill the churners' seats first, so joins and leaves run at the same rate in the step.
        for (let index = 0; index < CHURN_PER_SECOND * CHURN_STAY_S; index += 1) churn();
        await sleep(1000);
        result.crowdChurn = { ...(await step(fleet, meter, sender, CROWD_RATE, STEP_MS, churn)), churnPerSecond: CHURN_PER_SECOND };
      } finally {
        churners.closeAll();
        await churners.closed(3000);
      }
    });
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  }
  return result;
}
