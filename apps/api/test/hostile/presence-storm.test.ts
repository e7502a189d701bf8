import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../helpers.js';
import { startCrowd, type Crowd } from './crowd.js';
import { chatLatencies, cpuMsOf, quantile, startServer, type BackendKind, type HostileServer } from './hostile-helpers.js';

/**
 * The review's presence amplification: anonymous joins into a room of 1,000 listeners. Before
 * coalescing, 80 joins a second made 80 full presence frames a second for each of the 1,000
 * (10 MB/s), took the node from 4% to 72% CPU and another user's p99 from 23 to 404 ms.
 */
const LISTENERS = 1000;
const JOINS_PER_SECOND = 80;
const STORM_MS = 5000;
/** Each storm socket stays this long, so the storm is joins and leaves both. */
const STAY_MS = 1000;
/** At most one frame per 250 ms: ~24 over the storm and its leaves; 800 changes before coalescing. */
const FRAMES_PER_LISTENER_BOUND = 40;

const tail = (times: number[]): string => [...times].sort((a, b) => b - a).slice(0, 5).map((ms) => ms.toFixed(0)).join('/') + ' ms';

describe.each<BackendKind>(['memory', 'redis'])('presence storm (%s)', (kind) => {
  let target: HostileServer | undefined;
  let crowd: Crowd | undefined;

  afterEach(async () => {
    await crowd?.stop();
    crowd = undefined;
    await target?.stop();
    target = undefined;
  });

  it(`${JOINS_PER_SECOND} joins a second into a room of ${LISTENERS} leave chat p99 within 2x and presence frames bounded`, async () => {
    target = await startServer(kind, {});
    const { url, process } = target.server;
    crowd = startCrowd(url, 'hall');
    await crowd.listen(LISTENERS);
    const settled = JSON.stringify({ type: 'presence', room: 'hall', users: [], guests: [], anonymous: LISTENERS, count: 0 });
    await eventually(async () => (await crowd!.frames(settled)).settled, 20_000, 'every listener told of the full room');

    await chatLatencies(url, 'chat', 50); // warm-up
    const quiet = await chatLatencies(url, 'chat', 300, 10);
    const quietP99 = quantile(quiet.times, 0.99);
    await crowd.reset();
    const cpuBefore = cpuMsOf(process.pid!);
    const stormStarted = Date.now();

    const storm = crowd.storm(JOINS_PER_SECOND, STORM_MS, STAY_MS);
    const stormy = await chatLatencies(url, 'chat', 300, 10);
    const stormyP99 = quantile(stormy.times, 0.99);
    await storm;
    await eventually(async () => (await crowd!.frames(settled)).settled, 20_000, 'every listener told the storm is over');
    const stormSeconds = (Date.now() - stormStarted) / 1000;
    const cpu = (cpuMsOf(process.pid!) - cpuBefore) / 10 / stormSeconds;

    const { frames } = await crowd.frames(settled);
    const most = Math.max(...frames);
    const figures =
      `quiet p99 ${quietP99.toFixed(1)} ms, storm p99 ${stormyP99.toFixed(1)} ms; presence frames per listener ` +
      `max ${most}, mean ${(frames.reduce((a, b) => a + b, 0) / LISTENERS).toFixed(1)} over ${stormSeconds.toFixed(1)} s; ` +
      `server CPU ${cpu.toFixed(0)}% during the storm; slowest quiet ${tail(quiet.times)}, slowest in the storm ${tail(stormy.times)}`;
    console.info(`[presence storm, ${kind}] ${figures}`);
    expect(stormyP99, figures).toBeLessThanOrEqual(Math.max(2 * quietP99, 50));
    expect(frames).toHaveLength(LISTENERS);
    expect(most, figures).toBeLessThanOrEqual(FRAMES_PER_LISTENER_BOUND);
    expect(Math.min(...frames), figures).toBeGreaterThanOrEqual(1);
    expect(stormy.refused).toBe(0);
  }, 180_000);
});
