import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DJANGO_FIXTURE, PYTHON } from '@roomcast/testing';
import { encode } from '@msgpack/msgpack';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LayerCodec, RANDOM_PREFIX_BYTES } from '../../src/django/codec.js';
import { CoreLayer } from '../../src/django/core-layer.js';
import { startRedis, type TestRedis } from '../helpers.js';
import { assertDjangoInstalled } from './django-helpers.js';

/** Emoji (outside the BMP), accents, 4,000 characters in Python's count, and nested values. */
const MESSAGE = {
  type: 'chat.message',
  message: `👋🏽 héllo ${'ß'.repeat(3987)} end`,
  id: '1732300000000-0',
  user: null,
  nested: { list: [1, 2.5, null, true, false, 'x', -7, 2 ** 40], map: { deeper: [{ emoji: '🚀' }] } },
};

/**
 * Python's own channels_redis, in one process: prints what its serializer makes of MESSAGE, then
 * (core layer) joins a group and prints the first message it receives on its channel, and what
 * its deserializer makes of the hex bytes given on the next input line.
 */
const PYTHON_SIDE = `
import asyncio, json, sys
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
url, keys, message = sys.argv[1], [k for k in sys.argv[2].split(',') if k], json.loads(sys.argv[3])

async def main():
    core = RedisChannelLayer(hosts=[url], symmetric_encryption_keys=keys or None)
    pubsub = RedisPubSubChannelLayer(hosts=[url])
    channel = await core.new_channel()
    await core.group_add("chat_golden", channel)
    print(json.dumps({"channel": channel, "core": core.serialize(message).hex(), "pubsub": pubsub.serialize(message).hex()}), flush=True)
    received = await asyncio.wait_for(core.receive(channel), 20)
    print(json.dumps(received), flush=True)
    ours = json.loads(sys.stdin.readline())
    print(json.dumps({"core": core.deserialize(bytes.fromhex(ours["core"])), "pubsub": pubsub.deserialize(bytes.fromhex(ours["pubsub"]))}), flush=True)

asyncio.run(main())
`;

describe('golden bytes between Roomcast and Python channels_redis', () => {
  let redis: TestRedis;
  let client: Redis;

  beforeAll(async () => {
    assertDjangoInstalled();
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    client?.disconnect();
    await redis?.stop();
  });

  /** Runs the Python side with `pythonKeys`; Roomcast's side uses `nodeKeys`. */
  async function exchange(pythonKeys: string[], nodeKeys: string[]): Promise<void> {
    await client.flushdb();
    const child = spawn(PYTHON, ['-c', PYTHON_SIDE, redis.url, pythonKeys.join(','), JSON.stringify(MESSAGE)], {
      cwd: DJANGO_FIXTURE,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<unknown> => {
      const line = await lines.next();
      if (line.done) throw new Error(`the Python side ended early:\n${stderr}`);
      return JSON.parse(line.value);
    };
    try {
      const python = (await next()) as { channel: string; core: string; pubsub: string };
      const core = new CoreLayer(client, 'asgi', nodeKeys);
      const pubsubCodec = new LayerCodec([], 0);

      // Python -> Roomcast: our codecs read what channels_redis wrote.
      expect(core.codec.deserialize(Buffer.from(python.core, 'hex'))).toEqual(MESSAGE);
      expect(pubsubCodec.deserialize(Buffer.from(python.pubsub, 'hex'))).toEqual(MESSAGE);
      const bytes = Buffer.from(python.core, 'hex');
      if (pythonKeys.length === 0) {
        // Unencrypted, the bytes after the 12 random ones are exactly ours: msgpack with bin types.
        expect(bytes.subarray(RANDOM_PREFIX_BYTES).equals(Buffer.from(encode(MESSAGE)))).toBe(true);
        expect(Buffer.from(python.pubsub, 'hex').equals(Buffer.from(encode(MESSAGE)))).toBe(true);
      }

      // Roomcast -> Python: a group_send through Redis to the channel Python received on ...
      const sent = await core.groupSend('chat_golden', MESSAGE);
      expect(sent).toEqual({ channels: 1, overCapacity: 0 });
      expect(await next()).toEqual(MESSAGE);
      // ... and our bytes through Python's deserializers.
      child.stdin.write(`${JSON.stringify({ core: core.codec.serialize(MESSAGE).toString('hex'), pubsub: pubsubCodec.serialize(MESSAGE).toString('hex') })}\n`);
      expect(await next()).toEqual({ core: MESSAGE, pubsub: MESSAGE });
    } finally {
      child.kill('SIGKILL');
    }
  }

  it('decodes each other, without encryption, and the msgpack bytes are identical', async () => {
    expect([...MESSAGE.message]).toHaveLength(4000);
    await exchange([], []);
  });

  it('decodes each other with two keys on each side, in rotation (each side encrypts with a key the other has second)', async () => {
    await exchange(['old-key', 'new-key'], ['new-key', 'old-key']);
  });

  it('refuses a message encrypted with a key it does not have', async () => {
    const theirs = new LayerCodec(['someone-else'], RANDOM_PREFIX_BYTES).serialize(MESSAGE);
    expect(() => new LayerCodec(['new-key'], RANDOM_PREFIX_BYTES).deserialize(theirs)).toThrow(/Fernet/);
  });
});
