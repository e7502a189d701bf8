import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { REPO, SERVER_SCRIPT } from '@roomcast/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { refusedUpgrade, startNode, startRedis, TestSocket, type TestNode, type TestRedis } from '../helpers.js';
import { parseAnswer, rawConnect } from './edge-helpers.js';

/**
 * Findings: `/assets/../../package.json`, `/assets/%2e%2e/...` and `//rooms/x/messages` answered
 * 500 with an error-level stack; `?before=0-0` answered 500 on Redis; the origin check, without
 * ALLOWED_ORIGINS, trusted `Host` and ignored the scheme; `/metrics` was public under any setting.
 */

/** A GET with the path sent byte for byte (fetch would tidy `..` away). */
function rawGet(port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path, headers, agent: false }, (answer) => {
      let text = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (text += chunk));
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, text }));
    });
    call.on('error', reject);
    call.end();
  });
}

/** Log lines the node writes, parsed. */
function logCapture(): { stream: Writable; lines: Array<{ level: number; msg?: string }> } {
  const lines: Array<{ level: number; msg?: string }> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as { level: number });
      done();
    },
  });
  return { stream, lines };
}

describe('odd paths next to the SPA', () => {
  let node: TestNode;
  let webRoot: string;
  const log = logCapture();
  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'roomcast-web-'));
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'index.html'), '<!doctype html><title>Roomcast</title>');
    node = await startNode({ webRoot, logLevel: 'info' }, { logStream: log.stream });
  });
  afterAll(async () => {
    await node.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it.each([
    '/assets/../../package.json',
    '/assets/%2e%2e/%2e%2e/package.json',
    '/assets/..%2f..%2fpackage.json',
    '//rooms/x/messages',
    '//etc/passwd',
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  ])('answers %s with a JSON 4xx, no file and no error-level log', async (path) => {
    const before = log.lines.length;
    const { status, text } = await rawGet(node.port, path);
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(500);
    expect(JSON.parse(text)).toEqual({ error: expect.any(String), code: expect.stringMatching(/^(forbidden|not_found|invalid_query)$/) });
    expect(text).not.toContain('"name"');
    expect(text).not.toContain('root:');
    expect(log.lines.slice(before).filter((line) => line.level >= 50)).toEqual([]);
  });
});

describe('requests that are not HTTP', () => {
  it('answers them with a JSON 400 and closes the connection', async () => {
    const node = await startNode();
    try {
      const connection = await rawConnect(node.port);
      connection.socket.write('NOT HTTP AT ALL\r\n\r\n');
      expect(await connection.closedAfter).toBeLessThan(1000);
      expect(parseAnswer(connection.received())).toEqual({ status: 400, body: { error: expect.any(String), code: 'invalid_body' } });
    } finally {
      await node.close();
    }
  });
});

describe.each(['memory', 'redis'])('history before the first possible ID (%s backend)', (backend) => {
  let redis: TestRedis | undefined;
  let node: TestNode;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedis();
    node = await startNode(redis ? { redisUrl: redis.url } : {});
  });
  afterAll(async () => {
    await node.close();
    await redis?.stop();
  });

  it.each(['0-0', '0-1', '00-00'])('answers before=%s with a page, not a 500', async (before) => {
    const socket = await TestSocket.open(node.url, 'lobby');
    socket.send({ message: 'one' });
    await socket.waitForMessages(1);
    await socket.close();
    const response = await fetch(`${node.url}/rooms/lobby/messages?before=${before}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ messages: [], hasMore: false });
  });
});

describe('METRICS_TOKEN', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });
  const TOKEN = 'metrics-scrape-token-0123456789';

  it('refuses /metrics without the token, or with a wrong one, with 401 JSON; serves it with the token', async () => {
    node = await startNode({ metricsToken: TOKEN });
    const refused: Array<Record<string, string>> = [{}, { authorization: 'Bearer wrong-token-0123456789abc' }, { authorization: TOKEN }, { authorization: `Basic ${TOKEN}` }];
    for (const headers of refused) {
      const response = await fetch(`${node.url}/metrics`, { headers });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ error: expect.stringContaining('METRICS_TOKEN'), code: 'unauthorized' });
    }
    const scraped = await fetch(`${node.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(scraped.status).toBe(200);
    expect(await scraped.text()).toContain('# TYPE roomcast_open_sockets gauge');
  });

  it('leaves /metrics open when no token is set', async () => {
    node = await startNode();
    expect((await fetch(`${node.url}/metrics`)).status).toBe(200);
  });
});

describe('the own-origin fallback (no ALLOWED_ORIGINS, development)', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('compares the scheme too: an https page may not open a socket on plain http, the http page may', async () => {
    node = await startNode();
    const host = `127.0.0.1:${node.port}`;
    expect(await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { origin: `https://${host}` })).toEqual({
      status: 403,
      body: { error: expect.any(String), code: 'forbidden_origin' },
    });
    const same = await TestSocket.open(node.url, 'lobby', { headers: { origin: `http://${host}` } });
    await same.close();
  });

  it('takes the scheme from X-Forwarded-Proto only from a trusted proxy', async () => {
    node = await startNode({ trustProxy: 1 });
    const host = `127.0.0.1:${node.port}`;
    const behindTls = await TestSocket.open(node.url, 'lobby', { headers: { origin: `https://${host}`, 'x-forwarded-proto': 'https' } });
    await behindTls.close();
    expect((await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { origin: `https://${host}` })).status).toBe(403);
  });
});

/** Runs the built server with `env` and resolves with its exit code and what it wrote to stderr. */
async function startUpFailure(env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  if (!existsSync(SERVER_SCRIPT)) throw new Error(`${SERVER_SCRIPT} is missing: build first (npm run build)`);
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    cwd: REPO,
    env: { PATH: process.env.PATH ?? '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, lines: stderr.trim().split('\n') };
}

describe('start-up', () => {
  it('refuses production without ALLOWED_ORIGINS, with one line naming it', async () => {
    expect(await startUpFailure({ NODE_ENV: 'production', SESSION_SECRET: 'a-production-secret-of-32-chars!' })).toEqual({
      code: 1,
      lines: [expect.stringMatching(/^roomcast: bad configuration: ALLOWED_ORIGINS: is required when NODE_ENV=production/)],
    });
  });

  it('refuses TRUST_PROXY=true, with one line naming it and what to give instead', async () => {
    expect(await startUpFailure({ TRUST_PROXY: 'true' })).toEqual({
      code: 1,
      lines: [expect.stringMatching(/^roomcast: bad configuration: TRUST_PROXY: .*number of proxies/)],
    });
  });
});
