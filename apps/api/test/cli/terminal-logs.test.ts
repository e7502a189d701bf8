import { existsSync } from 'node:fs';
import { SERVER_SCRIPT } from '@roomcast/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../helpers.js';
import { spawnGroup, type ProcessGroup } from './process-group.js';

const SCRIPT = '/usr/bin/script';

describe('the server at a terminal', () => {
  let terminal: ProcessGroup;
  let port: number;
  let output = '';

  beforeAll(async () => {
    if (!existsSync(SCRIPT)) throw new Error(`${SCRIPT} is missing: install util-linux (Debian: apt-get install -y bsdutils) to give the server a terminal`);
    port = await freePort();
    // `script` runs the server on a pseudo-terminal, as a person's shell would.
    terminal = spawnGroup(SCRIPT, ['-qec', `exec ${process.execPath} ${SERVER_SCRIPT}`, '/dev/null'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: String(port), LOG_LEVEL: 'info', TERM: 'dumb' },
    });
    await terminal.ready(() => terminal.output().includes('Roomcast ready'), 30_000, 'the server to say it is ready');
    output = terminal.output();
  }, 40_000);

  afterAll(async () => {
    await terminal.stop();
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
