import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { eventually } from '../helpers.js';

/** A command run in its own process group, so stopping it stops every process it started. */
export interface ProcessGroup {
  child: ChildProcess;
  /** Everything it printed, stdout and stderr together. */
  output(): string;
  /** Waits for `check`; on time-out, fails with what it printed. */
  ready(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void>;
  /** SIGTERM to the whole group, then waits for the command to exit. */
  stop(): Promise<void>;
}

export function spawnGroup(command: string, args: string[], options: SpawnOptions): ProcessGroup {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => output,
    async ready(check, timeoutMs, what) {
      await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}`);
          return check();
        },
        timeoutMs,
        what,
      ).catch((error: unknown) => {
        throw new Error(`${String(error)}\n--- output ---\n${output.slice(-2000)}`);
      });
    },
    async stop() {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
      process.kill(-child.pid, 'SIGTERM');
      await exited;
    },
  };
}
