import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RoomClient, nodeWebSocketFactory, type NodeWebSocketConstructor } from '@roomcast/client';
import type { ChatMessage } from '@roomcast/protocol';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../helpers.js';
import { spawnGroup, type ProcessGroup } from './process-group.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const KEY = 'cli-key-0123456789abcdef';

/** Runs a command in the repo root; resolves with its exit code and output. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm start and npm run send-message, as the README says', () => {
  let server: ProcessGroup;
  let port: number;
  let output = '';

  beforeAll(async () => {
    port = await freePort();
    // Its own process group, so stopping it stops npm and the node process it started.
    server = spawnGroup('npm', ['start'], {
      cwd: repoRoot,
      env: { ...process.env, PORT: String(port), API_KEYS: `cli:${KEY}`, REDIS_URL: '', TURBO_TELEMETRY_DISABLED: '1' },
    });
    await server.ready(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.status === 200, 120_000, 'npm start to answer /healthz');
    output = server.output();
  }, 150_000);

  afterAll(() => server.stop());

  it('says what it builds, then logs JSON lines when its output is not a terminal', () => {
    expect(output).toContain('roomcast: building the server and the web app');
    expect(output).toMatch(/roomcast: (built \d+ packages|nothing to rebuild).*; starting the server/);
    const logLines = output.split('\n').filter((line) => line.startsWith('{'));
    const first = JSON.parse(logLines[0]!) as { level: number; msg: string };
    expect(first.msg).toContain('embedded in-memory backend');
  });

  it('serves a real client, and the CLI delivers a message to it', async () => {
    const client = new RoomClient({
      url: `http://127.0.0.1:${port}`,
      room: 'announcements',
      createSocket: nodeWebSocketFactory(WebSocket as unknown as NodeWebSocketConstructor),
    });
    const received: ChatMessage[] = [];
    client.on('message', (message) => received.push(message));
    const joined = new Promise((resolve) => client.on('presence', resolve));
    client.connect();
    await joined;
    expect(client.status).toBe('open');

    // The server on PORT of this machine, as `npm start` reads it: no URL needed.
    const sent = await run('npm', ['run', '--silent', 'send-message', '--', 'announcements', 'deploy', 'finished'], {
      API_KEYS: `cli:${KEY}`,
      PORT: String(port),
      ROOMCAST_URL: '',
      TURBO_TELEMETRY_DISABLED: '1',
    });
    expect(sent.stderr).not.toContain('send-message:');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/sent to announcements as \d+-\d+/);

    await eventually(() => received.length === 1, 10_000, 'the message at the client');
    expect(received[0]).toMatchObject({ room: 'announcements', user: 'cli', message: 'deploy finished' });
    client.close();
  });

  it('makes the CLI say clearly what went wrong', async () => {
    const wrongKey = await run('npm', ['run', '--silent', 'send-message', '--', 'announcements', 'hi', '--key', 'wrong-key-wrong-key-wrong'], {
      ROOMCAST_URL: `http://127.0.0.1:${port}`,
      TURBO_TELEMETRY_DISABLED: '1',
    });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toContain('refused the API key');

    const noServer = await run('npm', ['run', '--silent', 'send-message', '--', 'announcements', 'hi', '--key', KEY, '--url', `http://127.0.0.1:${await freePort()}`], {
      TURBO_TELEMETRY_DISABLED: '1',
    });
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toContain('Could not reach a Roomcast server');

    const badRoom = await run('npm', ['run', '--silent', 'send-message', '--', 'no spaces!', 'hi'], { TURBO_TELEMETRY_DISABLED: '1' });
    expect(badRoom.code).toBe(2);
    expect(badRoom.stderr).toContain('is not a room name');
  });
});
