import { describe, expect, it } from 'vitest';
import { judge, renderTables, type BenchResults } from './report.js';
import type { StormResult } from './scenarios/storm.js';

const storm = (label: string, seconds: number, cpuUs: number, extra: Partial<StormResult> = {}): StormResult => ({
  label,
  sockets: 10_000,
  rooms: 200,
  closedSeconds: 1,
  seconds,
  back: 10_000,
  incomplete: 0,
  retries: 0,
  refusals: {},
  survivorCpuSeconds: (cpuUs * 10_000) / 1e6,
  survivorCpuUsPerReconnect: cpuUs,
  survivorPeakRssBytes: 200 * 2 ** 20,
  checked: 100_000,
  missing: 0,
  duplicates: 0,
  messagesPosted: 2000,
  ...extra,
});

function results(partial: Partial<BenchResults>): BenchResults {
  const notRun = { notRun: 'skipped' };
  return {
    startedAt: '2026-12-02T00:00:00.000Z',
    durationSeconds: 1,
    machine: { cores: 2, model: 'test', node: 'v20', kernel: '6', memoryGiB: 1, openFilesLimit: '1024' },
    quiet: { loadAverageBefore: [0, 0, 0], loadAverageAfter: [0, 0, 0], foreignBusyMeanPercent: 0, foreignBusyMaxPercent: 0 },
    fanout: { baseline: notRun, embedded: notRun, redisOneNode: notRun, redisTwoNodes: notRun },
    http: { baseline: notRun, embedded: notRun },
    idle: [],
    targets: [],
    ...partial,
  };
}

describe('the crowd in the report', () => {
  it('judges the storm by time and CPU against the bare server of the same run', () => {
    const targets = judge(results({ storm: { baseline: storm('bare B', 10, 200), roomcast: storm('node B', 15, 400) } }));
    const time = targets.find((t) => t.what.startsWith('reconnect storm of 10,000'));
    const cpu = targets.find((t) => t.what.startsWith('reconnect storm: survivor CPU'));
    expect(time).toMatchObject({ ratio: '1.50x', met: true });
    expect(cpu).toMatchObject({ ratio: '2.00x', met: false });
  });

  it('fails the storm when a socket missed a message, however fast it was', () => {
    const targets = judge(results({ storm: { baseline: storm('bare B', 10, 200), roomcast: storm('node B', 5, 100, { missing: 3 }) } }));
    expect(targets.find((t) => t.what.startsWith('reconnect storm of'))?.met).toBe(false);
  });

  it('says who was busy during the storm (a 2-core machine: the generator shares it), n/a for results from before it was measured', () => {
    const busy = { survivorCpuPercent: 93.4, generatorCpuPercent: 88.6, machineBusyPercent: 97.2 };
    const text = renderTables(results({ storm: { baseline: storm('bare B', 2, 200), roomcast: storm('node B', 15, 1400, busy) } }));
    expect(text).toContain('| 200 MiB | 93% / 89% / 97% | 0 / 0 / 0 of 100,000 checked |');
    expect(text).toContain('| 200 MiB | n/a | - / not checked (no IDs) |');
    expect(judge(results({ storm: { baseline: storm('bare B', 2, 200), roomcast: storm('node B', 15, 1400, busy) } })).find((t) => t.what.startsWith('reconnect storm of'))?.note).toContain(
      'survivor / generator / all cores 93% / 89% / 97%',
    );
  });

  it('names every peer row and says why one did not run', () => {
    const text = renderTables(results({ fanout: { baseline: { notRun: 'x' }, embedded: { notRun: 'x' }, redisOneNode: { notRun: 'x' }, redisTwoNodes: { notRun: 'x' }, djangoCore: { notRun: 'the Debian packages are not installed' } } }));
    expect(text).toContain('| Socket.IO 4, 1 process | not run |');
    expect(text).toContain('| Django Channels core + daphne | not run: the Debian packages are not installed |');
  });
});
