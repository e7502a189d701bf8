import type { ChatMessage, MessagesPage } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { call, register, type CallOptions } from '../auth-helpers.js';
import { TestSocket, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';

const KEY = 'svc-key-0123456789abcdef';
const OTHER_KEY = 'other-key-0123456789abcdef';
const bearer = (key: string): CallOptions => ({ headers: { authorization: `Bearer ${key}` } });
const THUMBS = encodeURIComponent('👍');

for (const backend of ['memory', 'redis'] as const) {
  describe(`message changes over HTTP (${backend})`, () => {
    let redis: TestRedis | undefined;
    let node: TestNode;
    const sockets: TestSocket[] = [];
    const start = async (overrides = {}) => {
      if (backend === 'redis') redis = await startRedis();
      node = await startNode({
        apiKeys: [
          { key: KEY, name: 'svc' },
          { key: OTHER_KEY, name: 'other' },
        ],
        publishRate: 0,
        ...(redis ? { redisUrl: redis.url } : {}),
        ...overrides,
      });
    };
    afterEach(async () => {
      await Promise.all(sockets.splice(0).map((socket) => socket.close()));
      await node.close();
      await redis?.stop();
      redis = undefined;
    });
    const post = async (options: CallOptions, message = 'from svc', extra = {}) => {
      const result = await call(node, 'POST', '/rooms/lobby/messages', { message, ...extra }, options);
      expect(result.status, JSON.stringify(result.body)).toBe(201);
      return result.body as ChatMessage;
    };

    it('lets a service edit and delete its own post by its key, and nobody else', async () => {
      await start();
      const listener = await TestSocket.open(node.url, 'lobby');
      sockets.push(listener);
      const cookie = await register(node, 'alice');
      const session = { cookie, origin: node.url };
      const own = await post(bearer(KEY));
      // Another key, a signed-in user, an invalid key, nobody: refused, nothing changed.
      expect((await call(node, 'PATCH', `/rooms/lobby/messages/${own.id}`, { message: 'x' }, bearer(OTHER_KEY))).body).toMatchObject({ code: 'forbidden' });
      expect((await call(node, 'PATCH', `/rooms/lobby/messages/${own.id}`, { message: 'x' }, session)).body).toMatchObject({ code: 'forbidden' });
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, session)).status).toBe(403);
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, bearer('forged-key-0123456789abcdef'))).status).toBe(401);
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`)).status).toBe(401);
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, { cookie, origin: 'http://evil.example' })).body).toMatchObject({ code: 'forbidden_origin' });
      expect((await call(node, 'PATCH', '/rooms/lobby/messages/..%2Fx', { message: 'x' }, bearer(KEY))).body).toMatchObject({ code: 'not_found' });
      expect((await call(node, 'PATCH', '/rooms/lobby/messages/1-0', { message: 'x' }, bearer(KEY))).body).toMatchObject({ code: 'not_found' });

      const edited = await call(node, 'PATCH', `/rooms/lobby/messages/${own.id}`, { message: 'fixed' }, bearer(KEY));
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ id: own.id, user: 'svc', via: 'api', message: 'fixed' });
      expect(typeof (edited.body as { edited: number }).edited).toBe('number');
      await listener.waitFor((f) => f.type === 'chat.edit', 'the edit frame');

      expect((await call(node, 'PUT', `/rooms/lobby/messages/${own.id}/reactions/${THUMBS}`, undefined, session)).status).toBe(204);
      expect((await call(node, 'PUT', `/rooms/lobby/messages/${own.id}/reactions/${THUMBS}`, undefined, bearer(OTHER_KEY))).status).toBe(204);
      expect((await call(node, 'PUT', `/rooms/lobby/messages/${own.id}/reactions/${encodeURIComponent('<b>')}`, undefined, session)).body).toMatchObject({ code: 'invalid_body' });
      let page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages[0]!.reactions).toEqual({ '👍': ['alice', 'api:other'] });
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}/reactions/${THUMBS}`, undefined, session)).status).toBe(204);
      page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages[0]!.reactions).toEqual({ '👍': ['api:other'] });

      const idem = { headers: { ...bearer(KEY).headers, 'idempotency-key': 'del-1' } };
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, idem)).status).toBe(204);
      // The resend with the same key answers the same; without it, the message is gone.
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, idem)).status).toBe(204);
      expect((await call(node, 'DELETE', `/rooms/lobby/messages/${own.id}`, undefined, bearer(KEY))).status).toBe(404);
      page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages).toEqual([{ type: 'chat.message', id: own.id, room: 'lobby', user: 'svc', via: 'api', ts: own.ts, deleted: true }]);
      await listener.waitFor((f) => f.type === 'chat.delete', 'the deletion frame');
      expect(listener.frames.filter((f) => f.type === 'chat.delete')).toHaveLength(1);
    });

    it('refuses a reply to a message not kept, and a user edits their own post by session', async () => {
      await start();
      const cookie = await register(node, 'alice');
      const session = { cookie, origin: node.url };
      const first = await post(session, 'first');
      expect((await call(node, 'POST', '/rooms/lobby/messages', { message: 'r', replyTo: '1-0' }, session)).body).toMatchObject({ code: 'not_found' });
      const reply = await post(session, 'answer', { replyTo: first.id });
      expect(reply.replyTo).toBe(first.id);
      const edited = await call(node, 'PATCH', `/rooms/lobby/messages/${first.id}`, { message: 'first!' }, session);
      expect(edited.body).toMatchObject({ message: 'first!', user: 'alice' });
      const page = (await call(node, 'GET', '/rooms/lobby/messages')).body as MessagesPage;
      expect(page.messages.map((m) => [m.message, m.replyTo])).toEqual([
        ['first!', undefined],
        ['answer', first.id],
      ]);
    });

    it('spends the publish budget on edits and reactions too', async () => {
      await start({ publishRate: 1 });
      const own = await post(bearer(KEY));
      const statuses: number[] = [];
      for (let n = 0; n < 4; n += 1) {
        statuses.push((await call(node, 'PUT', `/rooms/lobby/messages/${own.id}/reactions/${THUMBS}`, undefined, bearer(KEY))).status);
      }
      // Burst of 2 a key: the post took one, one reaction passes, then 429.
      expect(statuses).toContain(429);
      expect(statuses[0]).toBe(204);
    });
  });
}
