import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { cpuSeconds } from './procs.js';

/**
 * CPU over a window: each server process's own (from /proc/PID/stat), the generator's own
 * (process.cpuUsage), the whole machine's (/proc/stat), and the generator's event-loop delay.
 * These tell, at a failing step, whether the server or the generator was the limit.
 */
export interface Window {
  seconds: number;
  /** CPU seconds used per watched process during the window, by name. */
  cpu: Record<string, number>;
  /** Percent of one core, by name. */
  cpuPercent: Record<string, number>;
  generatorCpuPercent: number;
  /** Busy share of all the machine's cores, percent. */
  machineBusyPercent: number;
  generatorLoopDelayP99Ms: number;
  /** Busy share of all cores not explained by the watched processes and the generator: other work. */
  foreignBusyPercent: number;
}

function machineTicks(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  const total = values.reduce((sum, value) => sum + value, 0);
  return { busy: total - idle, total };
}

const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

export class Meter {
  private startedAt = 0;
  private cpuAtStart: Record<string, number> = {};
  private generatorAtStart: NodeJS.CpuUsage = process.cpuUsage();
  private machineAtStart = machineTicks();

  constructor(private readonly watched: Record<string, number>) {}

  start(): void {
    this.startedAt = performance.now();
    this.cpuAtStart = this.sample();
    this.generatorAtStart = process.cpuUsage();
    this.machineAtStart = machineTicks();
    loopDelay.reset();
  }

  stop(): Window {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const now = this.sample();
    const cpu: Record<string, number> = {};
    const cpuPercent: Record<string, number> = {};
    for (const name of Object.keys(this.watched)) {
      cpu[name] = now[name]! - this.cpuAtStart[name]!;
      cpuPercent[name] = (100 * cpu[name]) / seconds;
    }
    const generator = process.cpuUsage(this.generatorAtStart);
    const machine = machineTicks();
    const busy = machine.busy - this.machineAtStart.busy;
    const total = machine.total - this.machineAtStart.total;
    const generatorCpuPercent = (100 * (generator.user + generator.system)) / 1e6 / seconds;
    const machineBusyPercent = total > 0 ? (100 * busy) / total : 0;
    const ours = Object.values(cpuPercent).reduce((sum, value) => sum + value, generatorCpuPercent);
    return {
      seconds,
      cpu,
      cpuPercent,
      generatorCpuPercent,
      machineBusyPercent,
      generatorLoopDelayP99Ms: loopDelay.percentile(99) / 1e6,
      foreignBusyPercent: Math.max(0, machineBusyPercent - ours / availableParallelism()),
    };
  }

  private sample(): Record<string, number> {
    const values: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.watched)) values[name] = cpuSeconds(pid);
    return values;
  }
}
