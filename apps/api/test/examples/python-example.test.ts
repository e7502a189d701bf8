import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ChatMessage } from '@roomcast/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startNode, type TestNode } from '../helpers.js';

const PYTHON = '/usr/bin/python3';
const EXAMPLE = fileURLToPath(new URL('../../../../examples/python/roomcast_example.py', import.meta.url));
const KEY = 'python-key-0123456789abcdef';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the example with `-I -S` (no site-packages, no user environment), which proves it needs
 * only the standard library. `onStderr` sees its progress notes as they come.
 */
function runExample(node: TestNode, args: string[], { key = KEY, onStderr }: { key?: string; onStderr?: (text: string) => void } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, ['-I', '-S', EXAMPLE, '--url', node.url, '--key', key, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      onStderr?.(stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const jsonLines = (text: string): ChatMessage[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ChatMessage);

async function postOverHttp(node: TestNode, room: string, message: string): Promise<ChatMessage> {
  const response = await fetch(`${node.url}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ message }),
  });
  expect(response.status).toBe(201);
  return (await response.json()) as ChatMessage;
}

describe('the Python example (examples/python), against a running server', () => {
  let node: TestNode;

  beforeAll(async () => {
    if (!existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: install Python 3 (Debian: apt-get install -y python3) to run the Python example's test`);
    node = await startNode({ apiKeys: [{ key: KEY, name: 'pysvc' }], publishRate: 0 });
  });
  afterAll(() => node?.close());

  it('posts with an API key, and says clearly when the key is refused', async () => {
    const sent = await runExample(node, ['post', 'py-post', 'hello from python', '--idempotency-key', 'deploy-42']);
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    const id = /^sent to py-post as (\d+-\d+)$/m.exec(sent.stdout)?.[1];
    expect(id).toBeDefined();
    // The same Idempotency-Key again: the first message's ID, nothing stored twice.
    const again = await runExample(node, ['post', 'py-post', 'hello from python', '--idempotency-key', 'deploy-42']);
    expect(again.stdout).toContain(`as ${id}`);
    const stored = (await (await fetch(`${node.url}/rooms/py-post/messages`)).json()) as { messages: ChatMessage[] };
    expect(stored.messages.map((message) => [message.id, message.user, message.message])).toEqual([[id, 'pysvc', 'hello from python']]);

    const refused = await runExample(node, ['post', 'py-post', 'x'], { key: 'not-a-key-not-a-key' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('(unauthorized, HTTP 401)');
  });

  it('pages back through the whole history, oldest first', async () => {
    const posted: ChatMessage[] = [];
    for (let n = 0; n < 123; n += 1) posted.push(await postOverHttp(node, 'py-history', `message ${n}`));
    const read = await runExample(node, ['history', 'py-history', '--page-size', '50']);
    expect(read.code).toBe(0);
    expect(jsonLines(read.stdout).map((message) => message.id)).toEqual(posted.map((message) => message.id));
  });

  it('follows a room with since: the missed messages first, then live ones, no gap and no duplicate', async () => {
    const earlier: ChatMessage[] = [];
    for (let n = 0; n < 30; n += 1) earlier.push(await postOverHttp(node, 'py-follow', `before ${n}`));
    let live = false;
    // Resume after the 10th: 20 to catch up on, then 5 live ones.
    const following = runExample(node, ['follow', 'py-follow', '--since', earlier[9]!.id, '--count', '25'], {
      onStderr: (stderr) => (live ||= stderr.includes('(caught up; now live)')),
    });
    await eventually(() => live, 15_000, 'the example to catch up');
    const later: ChatMessage[] = [];
    for (let n = 0; n < 5; n += 1) later.push(await postOverHttp(node, 'py-follow', `live ${n}`));
    const followed = await following;
    expect(followed.code).toBe(0);
    expect(jsonLines(followed.stdout).map((message) => message.id)).toEqual([...earlier.slice(10), ...later].map((message) => message.id));
  });
});
