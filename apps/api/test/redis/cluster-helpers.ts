import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HISTORY_PAGE_MAX, type ChatMessage, type MessagesPage } from '@roomcast/protocol';
import type { Config } from '../../src/config.js';
import { eventually, freePort, startNode, type TestNode } from '../helpers.js';

/** An API key for HTTP publishing in these tests; the messages carry `user: "svc"`. */
export const API_KEY = 'test-key-0123456789abcdef';

/** Node settings for load: no per-socket or per-key limit, history long enough to keep everything. */
export const loadConfig = (redisUrl: string, overrides: Partial<Config> = {}): Partial<Config> => ({
  redisUrl,
  socketRate: 0,
  publishRate: 0,
  historyLimit: 10_000,
  apiKeys: [{ key: API_KEY, name: 'svc' }],
  ...overrides,
});

export async function startNodes(count: number, config: Partial<Config>): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let n = 0; n < count; n += 1) nodes.push(await startNode(config));
  return nodes;
}

/** POSTs a message with the API key; resolves with the status and the stored message (on 201). */
export async function postMessage(base: string, room: string, message: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ message }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.json() };
}

/** The whole stored history of a room through `GET /rooms/:room/messages`, paging back with `before`. */
export async function readHistory(base: string, room: string, maxPages = 200): Promise<ChatMessage[]> {
  const pages: ChatMessage[][] = [];
  let before: string | undefined;
  for (let page = 0; page < maxPages; page += 1) {
    const query = new URLSearchParams({ limit: String(HISTORY_PAGE_MAX), ...(before === undefined ? {} : { before }) });
    const response = await fetch(`${base}/rooms/${room}/messages?${query}`, { signal: AbortSignal.timeout(10_000) });
    if (response.status !== 200) throw new Error(`history answered ${response.status}`);
    const body = (await response.json()) as MessagesPage;
    pages.unshift(body.messages);
    if (!body.hasMore || body.messages.length === 0) return pages.flat();
    before = body.messages[0]!.id;
  }
  throw new Error(`history of ${room} has more than ${maxPages} pages`);
}

export const ids = (messages: ChatMessage[]): string[] => messages.map((message) => message.id);

// ---------------------------------------------------------------- child processes

const SERVER_SCRIPT = fileURLToPath(new URL('../../dist/server.js', import.meta.url));

export interface ServerProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** Everything it printed, for failure messages. */
  output(): string;
  /** Sends `signal` (SIGKILL by default) and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs the built server (`node apps/api/dist/server.js`) as its own process, as production does,
 * and waits until `/readyz` answers 200. The caller kills it (afterEach), by its PID.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  if (!existsSync(SERVER_SCRIPT)) throw new Error(`${SERVER_SCRIPT} is missing: build the API first (npm run build -w @roomcast/api)`);
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', SOCKET_RATE: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  child.stderr!.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const handle: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    process: child,
    output: () => output,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
  try {
    await eventually(
      async () => {
        if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${output}`);
        const response = await fetch(`${handle.url}/readyz`, { signal: AbortSignal.timeout(2000) });
        return response.status === 200;
      },
      30_000,
      'the server process to be ready',
    );
  } catch (error) {
    await handle.kill();
    throw error;
  }
  return handle;
}
