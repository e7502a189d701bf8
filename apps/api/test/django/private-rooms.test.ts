import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { TestSocket, eventually, sleep, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { claim } from '../rooms/room-helpers.js';
import { TutorialPage, assertDjangoInstalled, metric, startBridgedNode, startDaphne, waitForMembership, type Daphne, type DjangoEnv } from './django-helpers.js';

/**
 * The bridge keeps a private room private: Django's groups are open to any consumer of the
 * Django project, so a private room's messages are not sent there, and `group_send` into it is
 * refused (dropped as `not_allowed`) unless the event's user is a member. A public claimed room
 * bridges both ways as before.
 */
describe('the Django bridge and claimed rooms', () => {
  let redis: TestRedis;
  let django: Redis;
  let daphne: Daphne;
  let node: TestNode;
  let env: DjangoEnv;

  beforeAll(async () => {
    assertDjangoInstalled();
    redis = await startRedis();
    env = { DJANGO_CHANNEL_LAYER: 'core', DJANGO_REDIS_URL: redis.url };
    django = new Redis(redis.url);
    [daphne, node] = await Promise.all([startDaphne(env), startBridgedNode(env, redis)]);
  });

  afterAll(async () => {
    await Promise.allSettled([node?.close(), daphne?.stop()]);
    django?.disconnect();
    await redis?.stop();
  });

  it('bridges a public claimed room both ways, and neither way for a private one', async () => {
    const cookie = await register(node, 'alice');
    await claim(node, cookie, 'vault', 'private');
    await claim(node, cookie, 'square', 'public');
    const vault = await TestSocket.open(node.url, 'vault', { headers: { cookie } });
    const square = await TestSocket.open(node.url, 'square', { headers: { cookie } });
    await waitForMembership(node, django, 'vault');
    await waitForMembership(node, django, 'square');
    const vaultPage = new TutorialPage(daphne.url, 'vault');
    const squarePage = new TutorialPage(daphne.url, 'square');
    await Promise.all([vaultPage.opened, squarePage.opened]);
    const droppedBefore = await metric(node, 'roomcast_django_dropped_total{reason="not_allowed"}');

    vaultPage.send('knocking from django');
    vault.send({ message: 'vault only' });
    await vault.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'vault only', 'the vault message');
    // The control: the same ways, in a public room, arrive.
    squarePage.send('hello from django');
    square.send({ message: 'hello from roomcast' });
    await square.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'hello from django', 'the Django message in square');
    await eventually(() => squarePage.lines.includes('hello from roomcast'), 10_000, 'the Roomcast message on daphne');
    await eventually(async () => (await metric(node, 'roomcast_django_dropped_total{reason="not_allowed"}')) > droppedBefore, 10_000, 'the drop counted');
    await sleep(500);

    expect(vault.messages.map((m) => m.message)).toEqual(['vault only']);
    expect(vaultPage.lines).toEqual(['knocking from django']);
    const stored = (await call(node, 'GET', '/rooms/vault/messages', undefined, { cookie })).body as { messages: Array<{ message: string }> };
    expect(stored.messages.map((m) => m.message)).toEqual(['vault only']);
    for (const closing of [vault, square]) await closing.close();
    vaultPage.close();
    squarePage.close();
  });
});
