import { Writable } from 'node:stream';
import { encode } from '@msgpack/msgpack';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSocket, eventually, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import {
  assertDjangoInstalled,
  manage,
  metric,
  startBridgedNode,
  waitForMembership,
  waitForPatternSubscriber,
  type DjangoEnv,
} from './django-helpers.js';

/** Each kind of bad payload: raw bytes, or a value to encode (maps get the channel on the core layer). */
const GARBAGE: Array<{ reason: string; raw?: Uint8Array; value?: unknown }> = [
  { reason: 'not_msgpack', raw: Buffer.from([0xc1, 0xff, 0x00]) },
  { reason: 'not_a_map', value: ['chat.message', 'hi'] },
  { reason: 'unknown_type', value: { type: 'user.joined', message: 'x' } },
  { reason: 'too_long', value: { type: 'chat.message', message: 'x'.repeat(4001) } },
  { reason: 'bad_message', value: { type: 'chat.message', message: 42 } },
];

function payload({ raw, value }: (typeof GARBAGE)[number], channel?: string): Buffer {
  if (raw) return Buffer.from(raw);
  const isMap = typeof value === 'object' && value !== null && !Array.isArray(value);
  return Buffer.from(encode(isMap && channel ? { ...value, __asgi_channel__: [channel] } : value));
}

/** Log lines, kept as text: each dropped payload says so once. */
function logSink(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { stream, lines };
}

/** Payloads that are not chat events, put straight into the bridge's queue or group channels. */
describe.each(['core', 'pubsub'] as const)('garbage on the %s layer', (layer) => {
  let redis: TestRedis;
  let django: Redis;
  let env: DjangoEnv;
  let node: TestNode;
  const log = logSink();

  beforeAll(async () => {
    assertDjangoInstalled();
    redis = await startRedis();
    django = new Redis(redis.url);
    env = { DJANGO_CHANNEL_LAYER: layer, DJANGO_REDIS_URL: redis.url };
    // The embedded backend, the Django layer on a Redis of its own.
    node = await startBridgedNode(env, undefined, { logStream: log.stream });
  });
  afterAll(async () => {
    await node?.close();
    django?.disconnect();
    await redis?.stop();
  });

  it('is dropped and counted with one log line each, and the next real message still arrives', async () => {
    const socket = await TestSocket.open(node.url, 'garbage');
    const channel = node.app.django!.channelOf('garbage');
    if (layer === 'core') {
      await waitForMembership(node, django, 'garbage');
      const queue = `asgi${channel.slice(0, channel.indexOf('!') + 1)}`;
      const now = Date.now() / 1000;
      // A member shorter than the random prefix, then each kind of garbage behind 12 random bytes.
      await django.zadd(queue, now, Buffer.from('short'));
      for (const [index, garbage] of GARBAGE.entries()) {
        await django.zadd(queue, now + index / 1000, Buffer.concat([Buffer.alloc(12, index + 1), payload(garbage, channel)]));
      }
      // A chat event for a channel that is not ours.
      await django.zadd(queue, now + 1, Buffer.concat([Buffer.alloc(12, 9), encode({ type: 'chat.message', message: 'x', __asgi_channel__: ['other.abc!x'] })]));
      // A real chat event queued two hours ago: older than the bridge remembers what it stored.
      await django.zadd(queue, now - 7200, Buffer.concat([Buffer.alloc(12, 10), encode({ type: 'chat.message', message: 'old', __asgi_channel__: [channel] })]));
    } else {
      await waitForPatternSubscriber(django);
      for (const garbage of GARBAGE) await django.publish('asgi__group__chat_garbage', payload(garbage));
      await django.publish('asgi__group__chat_bad%20room', Buffer.from(encode({ type: 'chat.message', message: 'x' })));
    }
    await manage(env, ['send_message', 'garbage', 'still here']);
    const frame = await socket.waitFor((f) => f.type === 'chat.message', 'the real message', 20_000);
    expect(frame).toMatchObject({ message: 'still here', user: 'django', room: 'garbage' });
    // The core layer's too-short member is one more that is not msgpack.
    const expected = {
      ...Object.fromEntries(GARBAGE.map(({ reason }) => [reason, 1])),
      bad_channel: 1,
      not_msgpack: layer === 'core' ? 2 : 1,
      expired: layer === 'core' ? 1 : 0,
    };
    for (const [reason, count] of Object.entries(expected)) {
      expect(await metric(node, `roomcast_django_dropped_total{reason="${reason}"}`), reason).toBe(count);
    }
    const dropLines = log.lines.filter((line) => line.includes('dropped a message from the Django channel layer'));
    expect(dropLines.length).toBe(GARBAGE.length + 1 + (layer === 'core' ? 2 : 0));
    expect(socket.messages).toHaveLength(1);
    expect(await metric(node, 'roomcast_django_received_total')).toBe(1);
    socket.close();
  });
});
