import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually } from '../helpers.js';
import {
  chatLatencies,
  fillRoom,
  metric,
  quantile,
  rssOf,
  silentUpgrade,
  startServer,
  watchRss,
  type BackendKind,
  type HostileServer,
} from './hostile-helpers.js';

/**
 * The review's resume flood: sockets resuming from the start of a room of 1,000 messages of
 * ~12 KB each, and never reading. Before paced replays, 200 of them took a node from 123 MB to
 * 1,343 MB and, on Redis, the XRANGE replies on the shared command connection made other rooms'
 * publishes time out.
 */
const ATTACKERS = 200;
const MESSAGES = 1000;
/** 3,990 three-byte characters: a frame of ~12 KB. */
const BIG_TEXT = (n: number): string => `${n} ${'€'.repeat(3990)}`;
/** What the flood may add to the node's resident memory: it took 1.2 GB before the fix. */
const RSS_GROWTH_BOUND = 150 * 1024 * 1024;

describe.each<BackendKind>(['memory', 'redis'])('resume flood (%s)', (kind) => {
  let target: HostileServer | undefined;
  const attackers: Socket[] = [];

  afterEach(async () => {
    for (const socket of attackers.splice(0)) socket.destroy();
    await target?.stop();
    target = undefined;
  });

  it(`${ATTACKERS} resumes from 0-0 that never read leave another room's p99 within 2x and memory bounded`, async () => {
    target = await startServer(kind, { HISTORY_LIMIT: String(MESSAGES), RESUME_RATE: '0' });
    const { url, port, process } = target.server;
    await fillRoom(url, 'big', MESSAGES, BIG_TEXT);
    await chatLatencies(url, 'chat', 50); // warm-up
    const quiet = await chatLatencies(url, 'chat', 200);
    const quietP99 = quantile(quiet.times, 0.99);
    const rssBefore = rssOf(process.pid!);

    const rss = watchRss(process.pid!);
    for (let n = 0; n < ATTACKERS; n += 1) attackers.push(silentUpgrade(port, '/ws/chat/big/?since=0-0'));
    await eventually(async () => (await metric(url, 'roomcast_open_sockets')) >= ATTACKERS, 15_000, 'every attacker upgraded');
    const flooded = await chatLatencies(url, 'chat', 200);
    const floodedP99 = quantile(flooded.times, 0.99);
    const peak = rss.stop();

    const bound = Math.max(2 * quietP99, 50);
    const figures = `quiet p99 ${quietP99.toFixed(1)} ms, flooded p99 ${floodedP99.toFixed(1)} ms; RSS ${(rssBefore / 2 ** 20).toFixed(0)} MB -> peak ${(peak / 2 ** 20).toFixed(0)} MB`;
    console.info(`[resume flood, ${kind}] ${figures}`);
    expect(floodedP99, figures).toBeLessThanOrEqual(bound);
    expect(peak - rssBefore, figures).toBeLessThan(RSS_GROWTH_BOUND);
    // Publishes kept flowing: every probe was stored and delivered, none refused.
    expect(flooded.refused).toBe(0);
    // Sockets that acknowledge nothing are let go (1013), not held open with their replay.
    await eventually(async () => (await metric(url, 'roomcast_slow_consumer_closes_total')) >= ATTACKERS, 40_000, 'every attacker closed 1013');
  }, 120_000);
});

describe.each<BackendKind>(['memory', 'redis'])('resume limits (%s)', (kind) => {
  let target: HostileServer | undefined;

  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  it('replays at most RESUME_MAX_BYTES, the newest messages, then says complete:false, and live ones follow', async () => {
    target = await startServer(kind, { RESUME_MAX_BYTES: String(64 * 1024) });
    const { url } = target.server;
    await fillRoom(url, 'capped', 200, (n) => `${n} ${'x'.repeat(1000)}`, 1);
    const socket = await TestSocket.open(url, 'capped', { since: '0-0' });
    try {
      const recovered = await socket.waitFor((frame) => frame.type === 'recovered', 'the recovered frame');
      expect(recovered).toEqual({ type: 'recovered', complete: false });
      const replayed = socket.messages;
      const bytes = replayed.reduce((sum, message) => sum + Buffer.byteLength(JSON.stringify(message)), 0);
      expect(bytes).toBeLessThanOrEqual(64 * 1024);
      expect(replayed.length).toBeGreaterThan(40);
      // The newest ones, contiguous, up to the last message of the room.
      const numbers = replayed.map((message) => Number(message.message.split(' ')[0]));
      expect(numbers).toEqual(Array.from({ length: replayed.length }, (_, index) => 200 - replayed.length + index));
      await fillRoom(url, 'capped', 1, () => 'after the resume');
      await socket.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'after the resume', 'the live message');
    } finally {
      await socket.close();
    }
  });

  it('refuses resumes past RESUME_RATE per address with 429 before the upgrade', async () => {
    target = await startServer(kind, { RESUME_RATE: '5' });
    const { url } = target.server;
    const started = Date.now();
    const attempts = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const socket = TestSocket.connect(url, 'lobby', { since: '0-0' });
        try {
          await socket.opened;
          return { socket, refused: undefined };
        } catch (error) {
          return { socket, refused: String(error) };
        }
      }),
    );
    const elapsedSeconds = (Date.now() - started) / 1000;
    const admitted = attempts.filter((attempt) => attempt.refused === undefined).length;
    await Promise.allSettled(attempts.map((attempt) => attempt.socket.close()));
    // A burst of twice the rate, then the rate.
    expect(admitted).toBeGreaterThanOrEqual(10);
    expect(admitted).toBeLessThanOrEqual(10 + Math.ceil(5 * elapsedSeconds) + 1);
    expect(attempts.filter((attempt) => attempt.refused?.includes('429')).length).toBe(40 - admitted);
    // A socket without `since` is not a resume and is not limited by it.
    const plain = await TestSocket.open(url, 'lobby');
    await plain.close();
  });
});
