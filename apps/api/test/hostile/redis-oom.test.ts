import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, register } from '../auth-helpers.js';
import { TestSocket } from '../helpers.js';
import { MB, figure, post, startTarget, redisUsedMemory, type Target } from './support.js';

/**
 * Finding: with Redis at `maxmemory` + `noeviction` (as the README advises), registrations
 * answered 500, logins and posts 503, new sockets closed 1011, and `/readyz` still said ready.
 * Now `/readyz` says 503 and every route answers 503 `unavailable`; nothing is stored.
 */
describe('Redis out of memory (maxmemory + noeviction)', () => {
  let target: Target;
  beforeAll(async () => {
    target = await startTarget('redis');
  });
  afterAll(() => target.close());

  it('is not ready, answers 503 unavailable everywhere and never 500, stores nothing, and recovers once memory is freed', async () => {
    const { node } = target;
    const admin = target.admin!;
    await register(node, 'before-oom');
    const socket = await TestSocket.open(node.url, 'oom');

    // A small maxmemory, filled with someone else's data.
    await admin.config('SET', 'maxmemory-policy', 'noeviction');
    await admin.config('SET', 'maxmemory', String((await redisUsedMemory(admin)) + 2 * MB));
    // Fillers of shrinking sizes, until even a tiny write is refused: Redis is full, not nearly full.
    let fillers = 0;
    for (const size of [64 * 1024, 4096, 256, 16]) {
      for (;;) {
        const refused = await admin.set(`filler:${fillers}`, 'x'.repeat(size)).then(() => false, (error: Error) => error.message.startsWith('OOM'));
        if (refused) break;
        fillers += 1;
      }
    }
    figure('redis OOM: fillers written before maxmemory', fillers);
    // Full stays full: client buffers come and go, so pin the limit just under what is used.
    await admin.config('SET', 'maxmemory', String((await redisUsedMemory(admin)) - MB / 2));

    const ready = await fetch(`${node.url}/readyz`);
    expect(ready.status).toBe(503);
    const readyBody = (await ready.json()) as { code: string; error: string };
    expect(readyBody.code).toBe('unavailable');
    expect(readyBody.error).toMatch(/out of memory/);

    const posted = await post(node, 'oom', 'no room for me', { 'idempotency-key': 'oom-1' });
    expect(posted).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    const registered = await call(node, 'POST', '/auth/register', { username: 'during-oom', password: 'correct horse battery staple' });
    expect(registered).toMatchObject({ status: 503, body: { code: 'unavailable' } });
    const loggedIn = await call(node, 'POST', '/auth/login', { username: 'before-oom', password: 'correct horse battery staple' });
    expect(loggedIn).toMatchObject({ status: 503, body: { code: 'unavailable' } });

    socket.send({ type: 'chat.message', message: 'no room either', nonce: 'oom-socket-1' });
    const refusal = await socket.waitFor((frame) => frame.type === 'error', 'the refusal');
    expect(refusal).toMatchObject({ code: 'unavailable', nonce: 'oom-socket-1' });
    expect(socket.ws.readyState).toBe(socket.ws.OPEN);

    // A new socket cannot join (presence is a write): it is told why, then closed 1011.
    const late = TestSocket.connect(node.url, 'oom');
    const lateClose = await late.closed;
    expect(late.frames).toEqual([expect.objectContaining({ type: 'error', code: 'unavailable' })]);
    expect(lateClose.code).toBe(1011);

    // Nothing was written: no log, no publish key, no account.
    expect(await admin.exists('rc:room:{oom}:log')).toBe(0);
    expect(await admin.keys('rc:room:*:idem:*')).toEqual([]);
    expect(await admin.exists('rc:account:during-oom')).toBe(0);
    expect(socket.messages).toEqual([]);

    // Memory freed: ready again, and the same sends are stored.
    await admin.flushdb();
    await admin.config('SET', 'maxmemory', '0');
    expect((await fetch(`${node.url}/readyz`)).status).toBe(200);
    expect((await post(node, 'oom', 'room now', { 'idempotency-key': 'oom-1' })).status).toBe(201);
    socket.send({ type: 'chat.message', message: 'room now too', nonce: 'oom-socket-1' });
    await socket.waitFor((frame) => frame.type === 'chat.message' && frame.nonce === 'oom-socket-1', 'the stored resend');
    await socket.close();
  });
});
