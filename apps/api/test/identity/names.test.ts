import { describe, expect, it } from 'vitest';
import { PASSWORD, call, register } from '../auth-helpers.js';
import { TestSocket, refusedUpgrade, type TestNode } from '../helpers.js';
import { useFixtures } from './fixtures.js';

const KEY = 'ops-key-0123456789abcdef';

describe('names that cannot impersonate', () => {
  const fixtures = useFixtures();
  const start = (overrides: Parameters<typeof fixtures.start>[0] = {}) => fixtures.start({ apiKeys: [{ key: KEY, name: 'ops' }], ...overrides });
  const guest = (node: TestNode, room: string, name: string) => fixtures.open(node, room, { query: { name } });

  it('registration refuses reserved names, API-key names and look-alikes of existing names with 409 and a sentence', async () => {
    const node = await start();
    await register(node, 'alice');
    for (const username of ['guest', 'Service', 'DJANGO', 'system', 'admin', 'ops', '0PS', 'a1ice', 'ALlCE', 'AIice']) {
      const result = await call(node, 'POST', '/auth/register', { username, password: PASSWORD });
      expect(result.status, username).toBe(409);
      expect(result.body, username).toEqual({ code: 'username_taken', error: expect.stringContaining(`"${username}"`) });
    }
    expect((await call(node, 'POST', '/auth/register', { username: 'alicia', password: PASSWORD })).status).toBe(201);
  });

  it('a service message carries via: "api" in the frame and in history; a user’s does not', async () => {
    const node = await start();
    const watcher = await fixtures.open(node, 'ops-room');
    const posted = await fetch(`${node.url}/rooms/ops-room/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'deploy finished' }),
    });
    expect(posted.status).toBe(201);
    expect(await posted.json()).toMatchObject({ user: 'ops', via: 'api' });
    const [frame] = await watcher.waitForMessages(1);
    expect(frame).toMatchObject({ user: 'ops', via: 'api', message: 'deploy finished' });
    const history = await call(node, 'GET', '/rooms/ops-room/messages');
    expect((history.body as { messages: unknown[] }).messages).toEqual([frame]);
  });

  for (const backend of ['embedded', 'redis'] as const) {
    it(`two named guests (${backend}): presence, typing and messages show both, distinctly`, async () => {
      const node = await start(backend === 'redis' ? { redisUrl: await fixtures.redisUrl() } : {});
      const rosa = await guest(node, 'yard', 'rosa');
      const tom = await guest(node, 'yard', 'tom');
      const presence = await rosa.waitFor((frame) => frame.type === 'presence' && frame.anonymous === 2, 'both guests');
      expect(presence).toEqual({ type: 'presence', room: 'yard', users: [], guests: ['rosa', 'tom'], anonymous: 2 });

      rosa.send({ type: 'typing' });
      tom.send({ type: 'typing' });
      expect(await tom.waitFor((frame) => frame.type === 'typing')).toEqual({ type: 'typing', user: null, guest: 'rosa' });
      expect(await rosa.waitFor((frame) => frame.type === 'typing')).toEqual({ type: 'typing', user: null, guest: 'tom' });

      rosa.send({ message: 'from rosa' });
      tom.send({ message: 'from tom' });
      const seen = await rosa.waitForMessages(2);
      expect(seen.map((m) => [m.user, m.guest, m.message]).sort()).toEqual([
        [null, 'rosa', 'from rosa'],
        [null, 'tom', 'from tom'],
      ]);
      // Read back from storage with the same names.
      const history = (await call(node, 'GET', '/rooms/yard/messages')).body as { messages: unknown[] };
      expect(history.messages).toEqual(seen);
    });
  }

  it('a guest cannot take a registered, reserved, look-alike or in-use name; a bad name is 400', async () => {
    const node = await start();
    await register(node, 'carol');
    await guest(node, 'yard', 'rosa');
    const refused = async (name: string) => refusedUpgrade(`${node.url}/ws/chat/yard/?name=${encodeURIComponent(name)}`);
    for (const name of ['carol', 'CAR0L', 'service', 'ops', 'guest', 'Rosa']) {
      expect(await refused(name), name).toEqual({ status: 409, body: { code: 'username_taken', error: expect.stringContaining(`"${name}"`) } });
    }
    expect(await refused('no spaces')).toMatchObject({ status: 400, body: { code: 'invalid_username' } });
    // The same name is free in another room.
    await guest(node, 'garden', 'rosa');
  });

  it('picking names is rate-limited like messages', async () => {
    const node = await start({ socketRate: 1 });
    const answers: number[] = [];
    for (let n = 0; n < 4; n += 1) {
      const socket = fixtures.track(TestSocket.connect(node.url, 'yard', { query: { name: `walker${n}` } }));
      answers.push(await socket.opened.then(() => 101, (error: Error) => Number(/(\d{3})/.exec(error.message)?.[1] ?? 0)));
    }
    expect(answers.slice(0, 2)).toEqual([101, 101]);
    expect(answers.slice(2)).toContain(429);
  });
});
