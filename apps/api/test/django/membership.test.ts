import { compareMessageIds } from '@roomcast/protocol';
import { runPython } from '@roomcast/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerCodec, RANDOM_PREFIX_BYTES } from '../../src/django/codec.js';
import { TestSocket, eventually, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { API_KEY, assertDjangoInstalled, manage, post, startBridgedNode, waitForMembership, type DjangoEnv } from './django-helpers.js';

/** Core layer: the cluster's channel in each room's group, through Django's flush() and an outage of its Redis. */
describe('core-layer membership and outages', () => {
  let djangoRedis: TestRedis;
  let django: Redis;
  let env: DjangoEnv;
  let node: TestNode;

  beforeAll(async () => {
    assertDjangoInstalled();
    djangoRedis = await startRedis({ appendonly: true });
    django = new Redis(djangoRedis.url, { maxRetriesPerRequest: 1 });
    env = { DJANGO_CHANNEL_LAYER: 'core', DJANGO_REDIS_URL: djangoRedis.url };
    node = await startBridgedNode(env, undefined);
  });
  afterAll(async () => {
    await node?.close();
    django?.disconnect();
    await djangoRedis?.stop();
  });

  it("joins a room's group while it has a socket, is back soon after Django's flush(), and leaves with the last socket", async () => {
    const socket = await TestSocket.open(node.url, 'members');
    await waitForMembership(node, django, 'members');
    const channel = node.app.django!.channelOf('members');
    const joinedAt = Number(await django.zscore('asgi:group:chat_members', channel));
    // Scored like channels_redis: seconds since the epoch, not milliseconds.
    expect(Math.abs(joinedAt - Date.now() / 1000)).toBeLessThan(60);
    expect(await django.ttl('asgi:group:chat_members')).toBeGreaterThan(86_000);

    // Django's flush() deletes every key of the layer (this marker too); the bridge adds itself back.
    await django.set('asgi:marker', '1');
    await runPython(env, ['-c', 'from asgiref.sync import async_to_sync; from channels.layers import get_channel_layer; import django; django.setup(); async_to_sync(get_channel_layer().flush)()']);
    expect(await django.exists('asgi:marker')).toBe(0);
    await waitForMembership(node, django, 'members');

    await socket.close();
    await eventually(async () => (await django.zscore('asgi:group:chat_members', channel)) === null, 10_000, 'the channel leaves chat_members');
  });

  it("answers 503 on /readyz while Django's Redis is away, holds what Roomcast stores meanwhile and sends it when it is back", async () => {
    // A Django consumer's channel in the group, read straight from its sorted set.
    await django.zadd('asgi:group:chat_outage', Date.now() / 1000, 'specific.fake!abc');
    const socket = await TestSocket.open(node.url, 'outage');
    await waitForMembership(node, django, 'outage');
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);

    await djangoRedis.kill();
    await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 503, 10_000, '/readyz 503');
    await post(node, 'outage', 'while away 1');
    await post(node, 'outage', 'while away 2');

    await djangoRedis.restart();
    await eventually(async () => (await fetch(`${node.url}/readyz`)).status === 200, 15_000, '/readyz 200 again');
    const codec = new LayerCodec([], RANDOM_PREFIX_BYTES);
    const queued = async (): Promise<string[]> =>
      (await django.zrangeBuffer('asgispecific.fake!', '0', '-1')).map((member) => String(codec.deserialize(member).message));
    await eventually(async () => (await queued()).length >= 2, 15_000, 'the held messages in the Django channel');
    expect(await queued()).toEqual(['while away 1', 'while away 2']);

    // And Django reaches Roomcast again.
    await manage(env, ['send_message', 'outage', 'back from django']);
    await socket.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'back from django', 'the message after the outage', 20_000);
    await socket.close();
  });

  it('sends messages stored at once to Django in the order they were stored, each once', async () => {
    await django.zadd('asgi:group:chat_burst', Date.now() / 1000, 'specific.burst!abc');
    // 90 publishes at once, under channels_redis's default capacity of 100 for the one channel.
    const stored = await Promise.all(
      Array.from({ length: 90 }, async (_, i) => {
        const response = await fetch(`${node.url}/rooms/burst/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
          body: JSON.stringify({ message: `burst ${i}` }),
        });
        return ((await response.json()) as { id: string }).id;
      }),
    );
    const codec = new LayerCodec([], RANDOM_PREFIX_BYTES);
    const queued = async (): Promise<string[]> =>
      (await django.zrangeBuffer('asgispecific.burst!', '0', '-1')).map((member) => String(codec.deserialize(member).id));
    await eventually(async () => (await queued()).length >= 90, 15_000, '90 messages in the Django channel');
    const ids = await queued();
    expect(ids).toHaveLength(90);
    expect(ids).toEqual([...stored].sort(compareMessageIds));
  });
});
