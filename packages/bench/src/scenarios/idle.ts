import { performance } from 'node:perf_hooks';
import { Fleet, joinInBatches, pace, type Member } from '../fleet.js';
import { rssBytes, sleep } from '../procs.js';
import type { ServerUnderTest } from '../servers.js';

/**
 * Scenario 3: many idle sockets on one node, in rooms of 50. Memory per connection (resident
 * growth from before the first socket to after the last, over the count), how fast they connect,
 * and then one message a second per room for a few seconds: every copy checked, p99 reported.
 */
export const IDLE_ROOM_SIZE = 50;
const CONNECT_BATCH = 250;
const SETTLE_MS = 1500;
const DRAIN_MS = 5000;

export interface IdleResult {
  label: string;
  sockets: number;
  /** Sockets joined (open and, on Roomcast, greeted) before the deadline. */
  joined: number;
  /** Sockets still open at the end. */
  openAtEnd: number;
  connectSeconds: number;
  connectsPerSecond: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  rssPerConnectionBytes: number;
  deliverySeconds: number;
  sentMessages: number;
  expectedCopies: number;
  deliveredCopies: number;
  lost: number;
  duplicates: number;
  misrouted: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  error?: string;
}

export const idleRoomName = (index: number): string => `idle-${index}`;

/** `deadline` bounds the joining; delivery then runs for `deliveryMs`. */
export async function runIdle(server: ServerUnderTest, sockets: number, deadline: number, deliveryMs: number): Promise<IdleResult> {
  const fleet = new Fleet({ kind: server.kind, port: server.port, roomName: idleRoomName, timeoutMs: 30_000 });
  const rooms = Math.ceil(sockets / IDLE_ROOM_SIZE);
  const seats = Array.from({ length: sockets }, (_, index) => ({ room: Math.floor(index / IDLE_ROOM_SIZE) }));
  await sleep(500);
  const rssBefore = rssBytes(server.proc.pid);
  const result: IdleResult = {
    label: server.label,
    sockets,
    joined: 0,
    openAtEnd: 0,
    connectSeconds: 0,
    connectsPerSecond: 0,
    rssBeforeBytes: rssBefore,
    rssAfterBytes: rssBefore,
    rssPerConnectionBytes: 0,
    deliverySeconds: deliveryMs / 1000,
    sentMessages: 0,
    expectedCopies: 0,
    deliveredCopies: 0,
    lost: 0,
    duplicates: 0,
    misrouted: 0,
    p50Ms: 0,
    p99Ms: 0,
    maxMs: 0,
  };
  let members: Member[] = [];
  try {
    const started = performance.now();
    try {
      members = await joinInBatches(fleet, seats, CONNECT_BATCH, deadline);
    } finally {
      result.connectSeconds = (performance.now() - started) / 1000;
      result.joined = fleet.members.filter((member) => member.socket.open).length;
      result.connectsPerSecond = result.joined / result.connectSeconds;
    }
    await sleep(SETTLE_MS);
    result.rssAfterBytes = rssBytes(server.proc.pid);
    result.rssPerConnectionBytes = (result.rssAfterBytes - rssBefore) / result.joined;

    // The first socket of each room speaks; everyone, it included, receives.
    const senders = Array.from({ length: rooms }, (_, room) => members[room * IDLE_ROOM_SIZE]!);
    fleet.tally.resetStep();
    const { sent } = await pace(fleet, senders, 1, deliveryMs);
    await fleet.drain(DRAIN_MS);
    const t = fleet.tally;
    result.sentMessages = sent;
    result.expectedCopies = fleet.members.reduce((sum, member) => sum + fleet.sent[member.room]!, 0);
    result.deliveredCopies = t.copies;
    result.lost = fleet.lost();
    result.duplicates = t.duplicates;
    result.misrouted = t.misrouted;
    result.p50Ms = t.latency.percentile(0.5) / 1000;
    result.p99Ms = t.latency.percentile(0.99) / 1000;
    result.maxMs = t.latency.max / 1000;
    result.openAtEnd = fleet.members.length - fleet.closedCount();
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    result.openAtEnd = fleet.members.length - fleet.closedCount();
  } finally {
    fleet.closeAll();
    await fleet.closed(5000);
  }
  return result;
}
