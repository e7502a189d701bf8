import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend.js';
import { testConfig } from '../../src/config.js';
import type { GroupEvent } from '../../src/layer/channel-layer.js';
import { Metrics } from '../../src/metrics.js';
import { createRedisBackend } from '../../src/redis/backend.js';
import { groupChannel } from '../../src/redis/keys.js';
import type { RedisRoomHistory } from '../../src/redis/history.js';
import { RedisChannelLayer } from '../../src/redis/layer.js';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { RecordingChannel, connected, recordingLogger, redisClient, redisFactory } from '../backends.js';
import { eventually, sleep } from '../helpers.js';

const event = (n: number): GroupEvent => ({ type: 'typing', frame: `{"n":${n}}` });

describe('Redis channel layer across nodes', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  const admin = async () => connected(redisClient(factory.redis().url));

  it('carries events between nodes, to channels by group and by name', async () => {
    const [a, b] = [await factory.create(), await factory.create()];
    const atA = new RecordingChannel(a.layer.newChannelName());
    const atB = new RecordingChannel(b.layer.newChannelName());
    await a.layer.groupAdd('g', atA);
    await b.layer.groupAdd('g', atB);
    await a.layer.groupSend('g', event(1));
    await b.layer.send(atA.name, event(2));
    await eventually(() => atA.events.length === 2 && atB.events.length === 1, 5000, 'events on both nodes');
    expect(atB.events).toEqual([event(1)]);
    expect(atA.events).toEqual([event(1), event(2)]);
  });

  it('subscribes once per group per node, however many channels join, and leaves with the last', async () => {
    const [a, b] = [await factory.create(), await factory.create()];
    const client = await admin();
    const subscribers = async (): Promise<number> => Number(((await client.pubsub('SHARDNUMSUB', groupChannel('room.lobby'))) as [string, number])[1]);
    const channels = Array.from({ length: 10 }, (_, n) => new RecordingChannel((n % 2 ? a : b).layer.newChannelName()));
    await Promise.all(channels.map((channel, n) => (n % 2 ? a : b).layer.groupAdd('room.lobby', channel)));
    expect(await subscribers()).toBe(2);
    await Promise.all(channels.filter((_, n) => n % 2).map((channel) => a.layer.groupDiscard('room.lobby', channel)));
    expect(await subscribers()).toBe(1);
    client.disconnect();
  });

  it('logs and drops a malformed payload and goes on delivering', async () => {
    const log = recordingLogger();
    const node = await factory.create();
    // A second node built with a logger of its own, to see what it logs.
    const client = await admin();
    const watched: Backend = await createRedisBackend({ config: testConfig({ redisUrl: factory.redis().url }), log, metrics: new Metrics(), redis: client });
    try {
      const channel = new RecordingChannel(watched.layer.newChannelName());
      await watched.layer.groupAdd('g', channel);
      for (const junk of ['not json', '{"type":1,"frame":"{}"}', '{"type":"x"}', '{"type":"chat.message","frame":"{}","id":"bad"}']) {
        await client.spublish(groupChannel('g'), junk);
      }
      await node.layer.groupSend('g', event(3));
      await eventually(() => channel.events.length === 1, 5000, 'the good event');
      expect(channel.events).toEqual([event(3)]);
      expect(log.warnings.filter((line) => line.includes('malformed'))).toHaveLength(4);
    } finally {
      await watched.close();
      client.disconnect();
    }
  });

  it('resubscribes by itself after losing its connection, then tells channels to resync', async () => {
    const node = await factory.create();
    const channel = new RecordingChannel(node.layer.newChannelName());
    await node.layer.groupAdd('g', channel);
    const client = await admin();
    expect(await node.ready()).toBe(true);
    await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    await eventually(async () => channel.resyncs === 1, 10_000, 'the resync after reconnecting');
    expect(await node.ready()).toBe(true);
    await client.spublish(groupChannel('g'), JSON.stringify(event(4)));
    await eventually(() => channel.events.length === 1, 5000, 'an event after the reconnection');
    expect(channel.events).toEqual([event(4)]);
    await sleep(100);
    expect(channel.resyncs).toBe(1);
    client.disconnect();
  });
});

describe('a subscription lost without notice', () => {
  const factory = redisFactory();
  beforeAll(() => factory.setUp());
  afterAll(() => factory.tearDown());
  afterEach(() => factory.reset());

  it('is noticed by the check of the room’s newest message: the layer resubscribes and its channels resync', async () => {
    const writer = await factory.create();
    const redis = await connected(redisClient(factory.redis().url));
    const subscriber = redis.duplicate({ autoResubscribe: false });
    subscriber.on('error', () => undefined);
    const layer = await RedisChannelLayer.create({
      redis,
      subscriber,
      nodeId: 'silent',
      log: recordingLogger(),
      metrics: new Metrics(),
      newestId: (room) => (writer.history as RedisRoomHistory).newestId(room),
      checkMs: 200,
    });
    try {
      const member = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('quiet'), member);
      await writer.history.append({ room: 'quiet', user: 'alice', message: 'heard' });
      await eventually(() => member.events.length === 1, 5000, 'the first message');
      // Behind the layer's back, as a server dropping a shard channel would.
      await subscriber.sunsubscribe(groupChannel(roomGroup('quiet')));
      await writer.history.append({ room: 'quiet', user: 'alice', message: 'missed' });
      await eventually(() => member.resyncs === 1, 10_000, 'the resync after the check found the gap');
      expect(member.events).toHaveLength(1);
      // Subscribed again: the next message arrives live.
      await writer.history.append({ room: 'quiet', user: 'alice', message: 'heard again' });
      await eventually(() => member.events.length === 2, 5000, 'a live message after resubscribing');
      expect(JSON.parse(member.events[1]!.frame).message).toBe('heard again');
      await sleep(3000);
      expect(member.resyncs).toBe(1);
    } finally {
      await layer.close();
      redis.disconnect();
    }
  });

  it('counts changes to messages as received: a reaction or an edit as the newest entry is no false alarm', async () => {
    const writer = await factory.create();
    const redis = await connected(redisClient(factory.redis().url));
    const layer = await RedisChannelLayer.create({
      redis,
      subscriber: redis.duplicate(),
      nodeId: 'changes',
      log: recordingLogger(),
      metrics: new Metrics(),
      newestId: (room) => (writer.history as RedisRoomHistory).newestId(room),
      checkMs: 200,
    });
    try {
      const member = new RecordingChannel(layer.newChannelName());
      await layer.groupAdd(roomGroup('busy'), member);
      const message = await writer.history.append({ room: 'busy', user: 'alice', message: 'hi' });
      await writer.history.change({ kind: 'reaction', room: 'busy', user: 'bob', target: message.id, emoji: '👍' });
      await writer.history.change({ kind: 'edit', room: 'busy', user: 'alice', target: message.id, message: 'hello', right: 'own' });
      await eventually(() => member.events.length === 3, 5000, 'the message and its two changes');
      // Past the check's "missed" age (2 s) and many of its periods: the newest entry is a change this node received.
      await sleep(3500);
      expect(member.resyncs).toBe(0);
      expect(member.events.map((event) => event.type)).toEqual(['chat.message', 'reaction', 'chat.edit']);
    } finally {
      await layer.close();
      redis.disconnect();
    }
  });
});
