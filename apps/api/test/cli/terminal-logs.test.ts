import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SERVER_SCRIPT } from '@roomcast/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../helpers.js';

const SCRIPT = '/usr/bin/script';

describe('the server at a terminal', () => {
  let terminal: ChildProcess;
  let port: number;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: install util-linux (Debian: apt-get install -y bsdutils) to give the server a terminal`);
    port = await freePort();
    // `script` runs the server on a pseudo-terminal, as a person's shell would; its own group.
    terminal = spawn(SCRIPT, ['-qec', `exec ${process.execPath} ${SERVER_SCRIPT}`, '/dev/null'], {
      detached: true,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), LOG_LEVEL: 'info', TERM: 'dumb' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    terminal.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => output.includes('Roomcast ready'), 30_000, 'the server to say it is ready').catch((error: unknown) => {
      throw new Error(`${String(error)}\n--- terminal ---\n${output}`);
    });
  }, 40_000);

  afterAll(async () => {
    if (terminal.pid !== undefined && terminal.exitCode === null) {
      const exited = new Promise((resolve) => terminal.once('exit', resolve));
      process.kill(-terminal.pid, 'SIGTERM');
      await exited;
    }
    // The server went with its terminal.
    await eventually(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined)) === undefined, 15_000, 'the server to stop');
  });

  it('logs readable lines, not JSON', () => {
    const lines = output.split(/\r?\n/).filter((line) => line.trim() !== '');
    expect(lines.some((line) => line.trimStart().startsWith('{'))).toBe(false);
    // e.g. "[22:31:56.187] INFO: Roomcast starting on the embedded in-memory backend (...)"
    const plain = lines.map((line) => line.replace(/\x1b\[[0-9;]*m/g, ''));
    expect(plain).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: Roomcast starting on the embedded in-memory backend/));
    expect(plain).toContainEqual(expect.stringMatching(/^\[\d\d:\d\d:\d\d\.\d{3}\] WARN: SESSION_SECRET is not set/));
  });
});
