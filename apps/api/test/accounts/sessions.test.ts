import Fastify, { type Session } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/accounts/memory.js';
import { fastifySessionStore, type SessionStore } from '../../src/accounts/sessions.js';

/** A logger that writes nothing (pino is Fastify's, not a dependency of ours). */
const silent = Fastify({ logger: { level: 'silent' } }).log;

const callback = <T>(run: (done: (error?: unknown, value?: T) => void) => void): Promise<T | undefined> =>
  new Promise((resolve, reject) => run((error, value) => (error ? reject(error) : resolve(value))));

describe('the @fastify/session store adapter', () => {
  const store = new MemorySessionStore();
  afterEach(async () => {
    await store.close();
  });

  it('stores a session as JSON until its cookie expires, and reads it back', async () => {
    const adapter = fastifySessionStore(store, silent);
    const session = { cookie: { originalMaxAge: 60_000, expires: new Date(Date.now() + 60_000) }, user: { username: 'alice' } } as unknown as Session;
    await callback((done) => adapter.set('sid', session, done));
    expect(JSON.parse((await store.get('sid'))!)).toMatchObject({ user: { username: 'alice' } });
    expect(await callback<Session | null>((done) => adapter.get('sid', done))).toMatchObject({ user: { username: 'alice' } });
  });

  it('does not store a session whose cookie has already expired', async () => {
    const adapter = fastifySessionStore(store, silent);
    await store.set('old', '{}', 60_000);
    const expired = { cookie: { originalMaxAge: 1, expires: new Date(Date.now() - 1000) } } as unknown as Session;
    await callback((done) => adapter.set('old', expired, done));
    expect(await store.get('old')).toBeUndefined();
  });

  it('reads an unreadable record as no session', async () => {
    const adapter = fastifySessionStore(store, silent);
    await store.set('garbage', 'not json {', 60_000);
    await store.set('array', '[1,2]', 60_000);
    expect(await callback((done) => adapter.get('garbage', done))).toBeNull();
    expect(await callback((done) => adapter.get('array', done))).toBeNull();
  });

  it('turns a failing store into a 503 unavailable, not the store’s own error', async () => {
    const broken: SessionStore = {
      get: () => Promise.reject(new Error('connection refused: rc:session:secret-id')),
      set: () => Promise.reject(new Error('down')),
      destroy: () => Promise.reject(new Error('down')),
      close: async () => undefined,
    };
    const adapter = fastifySessionStore(broken, silent);
    const error = await callback((done) => adapter.get('sid', done)).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'unavailable', statusCode: 503 });
    expect(String((error as Error).message)).not.toContain('secret-id');
  });
});
