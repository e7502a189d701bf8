import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { roomMessagesPath } from '@roomcast/protocol';
import { Fleet, joinInBatches, nowUs } from '../fleet.js';
import { Meter } from '../meter.js';
import { encodePayload } from '../payload.js';
import { BENCH_API_KEY, type ServerUnderTest } from '../servers.js';
import { LatencyHistogram } from '../stats.js';

/**
 * Scenario 4: `POST /rooms/:room/messages` as fast as answers come back. One lane per room, each
 * a closed loop over a kept-alive connection, so a room's messages stay in send order and the
 * one subscriber of each room checks every copy.
 */
const LANES = 32;
const DURATION_MS = 5000;
const DRAIN_MS = 3000;

export interface HttpResult {
  label: string;
  lanes: number;
  requests: number;
  failed: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  serverCpuPercent: number;
  serverCpuUsPerRequest: number;
  generatorCpuPercent: number;
  deliveredCopies: number;
  lost: number;
  duplicates: number;
}

export const httpRoomName = (index: number): string => `post-${index}`;

function post(agent: Agent, port: number, room: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: roomMessagesPath(room),
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${BENCH_API_KEY}`,
        },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
        response.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('POST timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

export async function runHttpPublish(server: ServerUnderTest): Promise<HttpResult> {
  const fleet = new Fleet({ kind: server.kind, port: server.port, roomName: httpRoomName, timeoutMs: 10_000 });
  const agent = new Agent({ keepAlive: true, maxSockets: LANES });
  const latency = new LatencyHistogram();
  const meter = new Meter({ server: server.proc.pid });
  let requests = 0;
  let failed = 0;
  try {
    await joinInBatches(fleet, Array.from({ length: LANES }, (_, room) => ({ room })), LANES, Date.now() + 10_000);
    const end = performance.now() + DURATION_MS;
    meter.start();
    const lane = async (room: number): Promise<void> => {
      while (performance.now() < end) {
        const seq = fleet.sent[room]!;
        const started = nowUs();
        const body = JSON.stringify({ message: encodePayload(seq, started, room) });
        fleet.sent[room] = seq + 1;
        const status = await post(agent, server.port, httpRoomName(room), body).catch(() => 0);
        latency.record(nowUs() - started);
        requests += 1;
        if (status !== 201) failed += 1;
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, room) => lane(room)));
    const seconds = DURATION_MS / 1000;
    await fleet.drain(DRAIN_MS);
    const window = meter.stop();
    return {
      label: server.label,
      lanes: LANES,
      requests,
      failed,
      requestsPerSecond: requests / seconds,
      p50Ms: latency.percentile(0.5) / 1000,
      p99Ms: latency.percentile(0.99) / 1000,
      serverCpuPercent: window.cpuPercent.server!,
      serverCpuUsPerRequest: (window.cpu.server! * 1e6) / Math.max(1, requests),
      generatorCpuPercent: window.generatorCpuPercent,
      deliveredCopies: fleet.tally.copies,
      lost: fleet.lost(),
      duplicates: fleet.tally.duplicates,
    };
  } finally {
    agent.destroy();
    fleet.closeAll();
    await fleet.closed(3000);
  }
}
