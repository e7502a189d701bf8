import { spawnServer, type ServerProcess } from '@roomcast/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { assertDjangoInstalled, manage, numbered, startBridgedNode, waitForPatternSubscriber, type DjangoEnv } from './django-helpers.js';

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

/**
 * Pubsub layer: only the lease holder listens. When it stops, the other node takes the lease and
 * the pattern subscription, and stores what Django sends from then on, once.
 */
describe('the pubsub-layer listener stopping', () => {
  let redis: TestRedis;
  let django: Redis;
  let env: DjangoEnv;
  const nodes: TestNode[] = [];

  beforeAll(async () => {
    assertDjangoInstalled();
    redis = await startRedis();
    django = new Redis(redis.url);
    env = { DJANGO_CHANNEL_LAYER: 'pubsub', DJANGO_REDIS_URL: redis.url };
    nodes.push(await startBridgedNode(env, redis), await startBridgedNode(env, redis));
  });
  afterAll(async () => {
    await Promise.allSettled(nodes.map((node) => node.close()));
    django?.disconnect();
    await redis?.stop();
  });

  it('hands over to the other node, which stores each later message once', async () => {
    await waitForPatternSubscriber(django);
    const [leaseKey] = await django.keys('roomcast:django:*:receiver');
    const holder = await django.get(leaseKey!);
    const leader = nodes.find((node) => node.app.backend.nodeId === holder)!;
    const other = nodes.find((node) => node !== leader)!;
    const socket = await TestSocket.open(other.url, 'handover');
    await leader.close();
    await eventually(async () => (await django.get(leaseKey!)) === other.app.backend.nodeId, 10_000, 'the other node holding the lease');
    // Its own subscriber connection (named for the node) holds the pattern subscription.
    const listening = async (): Promise<boolean> =>
      String(await django.call('CLIENT', 'LIST'))
        .split('\n')
        .some((line) => line.includes(`name=roomcast-django-sub-${other.app.backend.nodeId} `) && line.includes(' psub=1 '));
    await eventually(listening, 10_000, 'the other node listening');
    await manage(env, ['send_message', 'handover', 'after', '--count', '20']);
    await eventually(() => socket.messages.length >= 20, 20_000, '20 messages');
    await sleep(500);
    expect(socket.messages.map((message) => message.message)).toEqual(numbered('after', 20));
    socket.close();
  });
});
