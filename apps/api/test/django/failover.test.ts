import { spawnServer, type ServerProcess } from '@roomcast/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startRedis, type TestRedis } from '../helpers.js';
import { assertDjangoInstalled, manage, numbered, type DjangoEnv } from './django-helpers.js';

interface Page {
  messages: Array<{ message: string }>;
}

/** The node ID a server reports in /metrics. */
async function nodeIdOf(server: ServerProcess): Promise<string> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return /roomcast_backend_info\{backend="redis",node="([^"]+)"\}/.exec(text)![1]!;
}

async function kept(server: ServerProcess, room: string): Promise<string[]> {
  const texts: string[] = [];
  let before = '';
  for (;;) {
    const response = await fetch(`${server.url}/rooms/${room}/messages?limit=200${before}`);
    const page = (await response.json()) as Page & { hasMore: boolean; messages: Array<{ id: string; message: string }> };
    texts.unshift(...page.messages.map((message) => message.message));
    if (!page.hasMore || page.messages.length === 0) return texts;
    before = `&before=${page.messages[0]!.id}`;
  }
}

/**
 * Core layer, three Roomcast processes: the one receiving from Django is SIGKILLed while Django
 * sends 500 messages. Another takes the lease, puts back what the dead one had in flight, and
 * every message is stored exactly once.
 */
describe('the core-layer receiver killed mid-stream', () => {
  let roomcastRedis: TestRedis;
  let djangoRedis: TestRedis;
  let django: Redis;
  let env: DjangoEnv;
  const servers: ServerProcess[] = [];

  beforeAll(async () => {
    assertDjangoInstalled();
    [roomcastRedis, djangoRedis] = await Promise.all([startRedis(), startRedis()]);
    django = new Redis(djangoRedis.url);
    env = { DJANGO_CHANNEL_LAYER: 'core', DJANGO_REDIS_URL: djangoRedis.url };
    for (let i = 0; i < 3; i += 1) {
      servers.push(await spawnServer({ REDIS_URL: roomcastRedis.url, SOCKET_RATE: '0', ...env }));
    }
  });

  afterAll(async () => {
    await Promise.allSettled(servers.map((server) => server.kill()));
    django?.disconnect();
    await Promise.allSettled([roomcastRedis?.stop(), djangoRedis?.stop()]);
  });

  it('stores each of 500 messages once, none lost after the kill', async () => {
    const sockets = await Promise.all(servers.map((server) => TestSocket.open(server.url, 'failover')));
    let leaseKey = '';
    await eventually(async () => (leaseKey = (await django.keys('roomcast:django:*:receiver'))[0] ?? '') !== '', 10_000, 'a receiver lease');
    const cluster = leaseKey.split(':')[2]!;
    await eventually(async () => (await django.zcard('asgi:group:chat_failover')) === 1, 10_000, 'the cluster in chat_failover');
    const holder = await django.get(leaseKey);
    const ids = await Promise.all(servers.map(nodeIdOf));
    const victim = ids.indexOf(holder!);
    expect(victim).toBeGreaterThanOrEqual(0);

    const sending = manage(env, ['send_message', 'failover', 'm', '--count', '500']);
    const survivor = servers[(victim + 1) % 3]!;
    await eventually(async () => (await kept(survivor, 'failover')).length >= 100, 60_000, '100 messages stored');
    await servers[victim]!.kill('SIGKILL');
    await sending;

    const expected = numbered('m', 500);
    await eventually(async () => (await kept(survivor, 'failover')).length >= 500, 60_000, '500 messages stored');
    await sleep(1000);
    const stored = await kept(survivor, 'failover');
    expect(stored).toHaveLength(500);
    expect(new Set(stored).size).toBe(500);
    expect(stored).toEqual(expected);
    expect(await django.get(leaseKey)).not.toBe(holder);
    // Nothing left in flight, nothing left queued.
    expect(await django.zcard(`asgiroomcast.${cluster}!$inflight`)).toBe(0);
    expect(await django.zcard(`asgiroomcast.${cluster}!`)).toBe(0);
    // The survivors' sockets got each message once too.
    for (const [index, socket] of sockets.entries()) {
      if (index === victim) continue;
      expect(socket.messages.map((message) => message.message)).toEqual(expected);
      socket.close();
    }
  });
});
