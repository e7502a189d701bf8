import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { assertDjangoInstalled, manage, startDaphne, type Daphne, type DjangoEnv } from '@roomcast/testing';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import type { BuildOptions } from '../../src/app.js';
import type { DjangoConfig } from '../../src/config.js';
import type { DjangoTiming } from '../../src/django/bridge.js';
import { eventually, startNode, type TestNode, type TestRedis } from '../helpers.js';

export { assertDjangoInstalled, manage, startDaphne, type Daphne, type DjangoEnv };

export const API_KEY = 'django-bridge-test-key-0123456789';
/** Short loops, so a test sees memberships and failovers in well under a second. */
export const FAST: Partial<DjangoTiming> = { leaseMs: 1000, membershipMs: 100, refreshMs: 2000, retryMs: 200 };

export function djangoConfig(env: DjangoEnv): DjangoConfig {
  return {
    layer: env.DJANGO_CHANNEL_LAYER,
    redisUrl: env.DJANGO_REDIS_URL,
    groupPrefix: 'chat_',
    layerPrefix: env.DJANGO_LAYER_PREFIX ?? 'asgi',
    encryptionKeys: env.DJANGO_ENCRYPTION_KEYS ? env.DJANGO_ENCRYPTION_KEYS.split(',') : [],
  };
}

/** A Roomcast node on `roomcastRedis` (or embedded) bridged to the Django layer of `env`. */
export async function startBridgedNode(env: DjangoEnv, roomcastRedis: TestRedis | undefined, options: BuildOptions = {}): Promise<TestNode> {
  return startNode(
    {
      ...(roomcastRedis ? { redisUrl: roomcastRedis.url } : {}),
      django: djangoConfig(env),
      apiKeys: [{ key: API_KEY, name: 'service' }],
      socketRate: 0,
      publishRate: 0,
      ...(options.logStream ? { logLevel: 'info' } : {}),
    },
    { django: { timing: FAST }, ...options },
  );
}

/**
 * The tutorial's room page against daphne, as a browser runs it: a WebSocket to the tutorial
 * consumer that appends `data.message` for each frame and sends `{"message": text}`.
 */
export class TutorialPage {
  readonly lines: string[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(base: string, room: string) {
    this.ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws/chat/${room}/`, { headers: { origin: base } });
    this.ws.on('message', (data) => this.lines.push(String(JSON.parse(String(data)).message)));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
  }

  send(message: string): void {
    this.ws.send(JSON.stringify({ message }));
  }

  close(): void {
    this.ws.close();
  }
}

/** Waits until the Django group of `room` holds the cluster's channel (core layer). */
export async function waitForMembership(node: TestNode, redis: Redis, room: string): Promise<void> {
  const channel = node.app.django!.channelOf(room);
  await eventually(async () => (await redis.zscore(`asgi:group:chat_${room}`, channel)) !== null, 10_000, `${channel} in chat_${room}`);
}

/** Waits until one node of the cluster listens to the room groups by pattern (pubsub layer). */
export async function waitForPatternSubscriber(redis: Redis): Promise<void> {
  await eventually(async () => (await redis.call('PUBSUB', 'NUMPAT')) === 1, 10_000, 'the bridge subscribed to the Django groups');
}

export const CLI = fileURLToPath(new URL('../../dist/cli/send-message.js', import.meta.url));

/** `npm run send-message -- ROOM TEXT` against `node`, as a process. */
export async function sendMessageCli(node: TestNode, room: string, text: string): Promise<void> {
  const child = spawn(process.execPath, [CLI, room, text, '--url', node.url, '--key', API_KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`send-message failed (${code}): ${err}`);
}

export async function post(node: TestNode, room: string, message: string): Promise<void> {
  const response = await fetch(`${node.url}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify({ message }),
  });
  if (response.status !== 201) throw new Error(`POST answered ${response.status}: ${await response.text()}`);
}

/** Every message kept in a room, oldest first. */
export async function history(node: TestNode, room: string): Promise<string[]> {
  const response = await fetch(`${node.url}/rooms/${room}/messages?limit=200`);
  const body = (await response.json()) as { messages: Array<{ message: string }> };
  return body.messages.map((message) => message.message);
}

export const numbered = (text: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${text} ${i + 1}`);

/** A `/metrics` sample's value (0 when absent). */
export async function metric(node: TestNode, sample: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`)).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${sample} `));
  return line === undefined ? 0 : Number(line.slice(sample.length + 1));
}
