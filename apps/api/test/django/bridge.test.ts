import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import {
  assertDjangoInstalled,
  history,
  manage,
  numbered,
  post,
  sendMessageCli,
  startBridgedNode,
  startDaphne,
  TutorialPage,
  waitForMembership,
  waitForPatternSubscriber,
  type Daphne,
  type DjangoEnv,
} from './django-helpers.js';

/**
 * A Django project (the Channels tutorial, under daphne) and two Roomcast nodes share rooms
 * through the project's channels_redis layer, both ways, each message once. The core layer runs
 * on a Redis of its own beside Roomcast's; the pubsub layer shares Roomcast's Redis.
 */
describe.each(['core', 'pubsub'] as const)('the Django bridge on the %s layer', (layer) => {
  let roomcastRedis: TestRedis;
  let djangoRedis: TestRedis;
  let django: Redis;
  let env: DjangoEnv;
  let daphne: Daphne;
  let a: TestNode;
  let b: TestNode;

  beforeAll(async () => {
    assertDjangoInstalled();
    roomcastRedis = await startRedis();
    djangoRedis = layer === 'core' ? await startRedis() : roomcastRedis;
    django = new Redis(djangoRedis.url);
    env = { DJANGO_CHANNEL_LAYER: layer, DJANGO_REDIS_URL: djangoRedis.url };
    [daphne, a, b] = await Promise.all([startDaphne(env), startBridgedNode(env, roomcastRedis), startBridgedNode(env, roomcastRedis)]);
  });

  afterAll(async () => {
    await Promise.allSettled([a?.close(), b?.close(), daphne?.stop()]);
    django?.disconnect();
    await roomcastRedis?.stop();
    if (djangoRedis !== roomcastRedis) await djangoRedis?.stop();
  });

  /** Sockets on both nodes in `room`, once the bridge listens to the room's group. */
  async function roomcastSockets(room: string): Promise<TestSocket[]> {
    const sockets = await Promise.all([TestSocket.open(a.url, room), TestSocket.open(b.url, room)]);
    if (layer === 'core') await waitForMembership(a, django, room);
    else await waitForPatternSubscriber(django);
    return sockets;
  }

  it('stores manage.py send_message --count 50 once, and every node delivers it once, in order', async () => {
    const sockets = await roomcastSockets('lobby');
    await manage(env, ['send_message', 'lobby', 'from django', '--count', '50']);
    const expected = numbered('from django', 50);
    for (const socket of sockets) {
      await eventually(() => socket.messages.length >= 50, 20_000, '50 messages on each node');
    }
    await sleep(500);
    for (const socket of sockets) {
      expect(socket.messages.map((message) => message.message)).toEqual(expected);
      expect(new Set(socket.messages.map((message) => message.user))).toEqual(new Set(['django']));
    }
    expect(await history(a, 'lobby')).toEqual(expected);
    if (layer === 'core') {
      // Each stored under its random bytes, remembered for an hour (not the 24 h of an Idempotency-Key).
      const roomcast = new Redis(roomcastRedis.url);
      const keys = await roomcast.keys('rc:room:{lobby}:idem:django:*');
      expect(keys).toHaveLength(50);
      const ttl = await roomcast.pttl(keys[0]!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_600_000);
      roomcast.disconnect();
    }
    // The tutorial's older spelling of the type is a chat message too.
    await manage(env, ['send_message', 'lobby', 'older spelling', '--type', 'chat_message']);
    await sockets[0]!.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'older spelling', 'chat_message');
    for (const socket of sockets) socket.close();
  });

  it('sends what Roomcast stores (socket on A, HTTP on B, the CLI) to the tutorial page on daphne, once each', async () => {
    const [onA] = await roomcastSockets('relay');
    const page = new TutorialPage(daphne.url, 'relay');
    await page.opened;
    onA!.send({ message: 'socket on A' });
    // Stored before the next is posted, so the order on daphne is known.
    await onA!.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'socket on A', 'its own message');
    await post(b, 'relay', 'HTTP on B');
    await sendMessageCli(a, 'relay', 'the CLI');
    page.send('from daphne');
    await eventually(() => page.lines.length >= 4, 15_000, 'four lines on the daphne page');
    await sleep(1000);
    expect(page.lines.slice(0, 3)).toEqual(['socket on A', 'HTTP on B', 'the CLI']);
    // Its own message reaches it from Django once; Roomcast stored it and did not send it back.
    expect(page.lines.filter((line) => line === 'from daphne')).toHaveLength(1);
    expect(page.lines).toHaveLength(4);
    page.close();
    onA!.close();
  });

  it('stores what the tutorial page on daphne sends, once, for Roomcast sockets on every node', async () => {
    const sockets = await roomcastSockets('tutorial');
    const page = new TutorialPage(daphne.url, 'tutorial');
    await page.opened;
    for (const text of ['one', 'two', 'three']) page.send(text);
    for (const socket of sockets) await eventually(() => socket.messages.length >= 3, 15_000, 'three messages');
    await sleep(500);
    for (const socket of sockets) expect(socket.messages.map((message) => message.message)).toEqual(['one', 'two', 'three']);
    expect(await history(b, 'tutorial')).toEqual(['one', 'two', 'three']);
    expect(page.lines).toEqual(['one', 'two', 'three']);
    page.close();
    for (const socket of sockets) socket.close();
  });
});
