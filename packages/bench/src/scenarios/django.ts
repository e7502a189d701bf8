import { spawn, spawnSync } from 'node:child_process';
import { DJANGO_FIXTURE, PYTHON, djangoInstalled } from '@roomcast/testing';
import { SUBPROTOCOL } from '@roomcast/protocol';
import WebSocket from 'ws';
import { freePort, httpOk, start, stop, waitUntil, type RedisProc } from '../procs.js';
import { startRoomcast, stopServer, type ServerUnderTest } from '../servers.js';
import { LatencyHistogram } from '../stats.js';

/**
 * Django -> sockets: one Python process runs `group_send` to `chat_bench` MESSAGES times in one
 * event loop (a Celery task or a view would do the same), and the same stream is received twice:
 * by a Roomcast socket, through the bridge (popped, stored, fanned out), and by a socket on the
 * Django Channels tutorial consumer under daphne (channels_redis's own delivery).
 */

const MESSAGES = 2000;
const ROOM = 'bench';
const WAIT_MS = 60_000;

export interface DjangoSide {
  received: number;
  lost: number;
  duplicates: number;
  /** Messages per second from the first send to the last arrival. */
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface DjangoResult {
  messages: number;
  /** group_send calls per second the Python sender managed. */
  sentPerSecond: number;
  roomcast: DjangoSide;
  daphne: DjangoSide;
}

export const DJANGO_MISSING =
  'the Debian packages python3-django, python3-django-channels, python3-channels-redis, daphne and python3-msgpack are not installed';

const SENDER = `
import asyncio, sys, time
import django
django.setup()
from channels.layers import get_channel_layer

async def main(count):
    layer = get_channel_layer()
    started = time.time()
    for n in range(count):
        await layer.group_send("chat_${ROOM}", {"type": "chat.message", "message": f"{n} {time.time()}"})
    print(started, time.time(), flush=True)

asyncio.run(main(int(sys.argv[1])))
`;

/** Counts one receiver's copies of the numbered stream. */
class Receiver {
  private readonly seen = new Uint8Array(MESSAGES);
  private readonly latency = new LatencyHistogram();
  received = 0;
  duplicates = 0;
  last = 0;
  readonly ws: WebSocket;
  readonly opened: Promise<void>;

  constructor(url: string, protocols: string[], onlyChat: boolean) {
    this.ws = new WebSocket(url, protocols, { headers: { origin: new URL(url.replace(/^ws/, 'http')).origin } });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { type?: string; message?: string };
      if (onlyChat && frame.type !== 'chat.message') return;
      const [index, sentAt] = String(frame.message).split(' ').map(Number) as [number, number];
      if (!(index >= 0 && index < MESSAGES)) return;
      const now = Date.now();
      if (this.seen[index]) {
        this.duplicates += 1;
        return;
      }
      this.seen[index] = 1;
      this.received += 1;
      this.last = now;
      this.latency.record((now - sentAt * 1000) * 1000);
    });
  }

  side(startedAtMs: number): DjangoSide {
    const seconds = Math.max(0.001, (this.last - startedAtMs) / 1000);
    return {
      received: this.received,
      lost: MESSAGES - this.received,
      duplicates: this.duplicates,
      perSecond: this.received / seconds,
      p50Ms: this.latency.percentile(0.5) / 1000,
      p99Ms: this.latency.percentile(0.99) / 1000,
    };
  }
}

/** A channels_redis layer the tutorial consumer can run on. */
export type DjangoLayer = 'core' | 'pubsub';

/**
 * The Django Channels tutorial's chat consumer under daphne, on `layer` over `redis`: a peer in
 * the fan-out table, driven by the same generator (it speaks `{"message": ...}` both ways).
 */
export async function startDaphne(layer: DjangoLayer, redis: RedisProc): Promise<ServerUnderTest> {
  if (!djangoInstalled()) throw new Error(DJANGO_MISSING);
  const port = await freePort();
  const env = { DJANGO_CHANNEL_LAYER: layer, DJANGO_REDIS_URL: redis.url, PYTHONPATH: DJANGO_FIXTURE, DJANGO_SETTINGS_MODULE: 'mysite.settings', PYTHONDONTWRITEBYTECODE: '1' };
  const proc = start(`daphne ${layer}`, PYTHON, ['-m', 'daphne', '-b', '127.0.0.1', '-p', String(port), 'mysite.asgi:application'], env);
  try {
    await waitUntil(proc, () => httpOk(port, '/chat/'), 30_000, 'daphne to answer /chat/');
  } catch (error) {
    await stop(proc);
    throw error;
  }
  return { kind: 'django', label: `daphne ${layer}`, port, proc };
}

export async function runDjango(redis: RedisProc, stops: Array<() => Promise<void>>): Promise<DjangoResult> {
  if (!djangoInstalled()) throw new Error(DJANGO_MISSING);
  const django = {
    DJANGO_CHANNEL_LAYER: 'core',
    DJANGO_REDIS_URL: redis.url,
    PYTHONPATH: DJANGO_FIXTURE,
    DJANGO_SETTINGS_MODULE: 'mysite.settings',
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const daphnePort = await freePort();
  const daphne = start('daphne', PYTHON, ['-m', 'daphne', '-b', '127.0.0.1', '-p', String(daphnePort), 'mysite.asgi:application'], django);
  stops.push(() => stop(daphne));
  await waitUntil(daphne, () => httpOk(daphnePort, '/chat/'), 30_000, 'daphne to answer /chat/');
  const roomcast = await startRoomcast('roomcast + django bridge', { env: django });
  stops.push(() => stopServer(roomcast));

  const viaRoomcast = new Receiver(`ws://127.0.0.1:${roomcast.port}/ws/chat/${ROOM}/`, [SUBPROTOCOL], true);
  const viaDaphne = new Receiver(`ws://127.0.0.1:${daphnePort}/ws/chat/${ROOM}/`, [], false);
  stops.push(async () => {
    viaRoomcast.ws.terminate();
    viaDaphne.ws.terminate();
  });
  await Promise.all([viaRoomcast.opened, viaDaphne.opened]);
  // Both in chat_bench: daphne's consumer, and the Roomcast cluster's channel.
  const members = (): number =>
    Number(spawnSync('redis-cli', ['-p', new URL(redis.url).port, 'ZCARD', `asgi:group:chat_${ROOM}`], { encoding: 'utf8' }).stdout.trim());
  const deadline = Date.now() + 15_000;
  while (members() < 2) {
    if (Date.now() > deadline) throw new Error('the bridge did not join chat_bench within 15 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  // Not spawnSync: the receivers on this event loop must read while the sender sends.
  const { stdout } = await runSender(django);
  const [startedAt, endedAt] = stdout.trim().split(' ').map(Number) as [number, number];
  const until = Date.now() + 20_000;
  while ((viaRoomcast.received < MESSAGES || viaDaphne.received < MESSAGES) && Date.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // Late copies (duplicates) would come within this.
  await new Promise((resolve) => setTimeout(resolve, 500));
  return {
    messages: MESSAGES,
    sentPerSecond: MESSAGES / Math.max(0.001, endedAt - startedAt),
    roomcast: viaRoomcast.side(startedAt * 1000),
    daphne: viaDaphne.side(startedAt * 1000),
  };
}

async function runSender(env: Record<string, string>): Promise<{ stdout: string }> {
  const child = spawn(PYTHON, ['-c', SENDER, String(MESSAGES)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), WAIT_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`the Python sender failed (${code}): ${stderr.slice(-500)}`);
  return { stdout };
}
