import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD, call, login, register, sessionIdOf } from '../auth-helpers.js';
import { TestSocket, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';

const API_KEY = 'k3y-that-must-never-be-logged-0123456789';
const WRONG_PASSWORD = 'a wrong password that must not be logged';

/** Collects every log line the app writes. */
function logCapture(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  return {
    stream: new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        chunks.push(chunk.toString());
        done();
      },
    }),
    text: () => chunks.join(''),
  };
}

/** Every form a secret could take in a log line: as is, URL-encoded, JSON-escaped. */
function forms(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])];
}

describe('log output', () => {
  let node: TestNode | undefined;
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await node?.close();
    await redis?.stop();
    node = undefined;
    redis = undefined;
  });

  it('holds no password, cookie value or API key after a full login-and-chat run at debug level', async () => {
    const logs = logCapture();
    node = await startNode({ logLevel: 'debug', apiKeys: [{ name: 'service', key: API_KEY }] }, { logStream: logs.stream });

    const registered = await register(node, 'alice', PASSWORD, { origin: node.url });
    await call(node, 'POST', '/auth/login', { username: 'alice', password: WRONG_PASSWORD });
    const cookie = await login(node, 'alice', PASSWORD, { cookie: registered });
    await call(node, 'GET', '/auth/me', undefined, { cookie });

    const socket = await TestSocket.open(node.url, 'lobby', { headers: { cookie, origin: node.url } });
    socket.send({ message: 'hello' });
    await socket.waitForMessages(1);
    await call(node, 'POST', '/rooms/lobby/messages', { message: 'as alice' }, { cookie, origin: node.url });
    await call(node, 'POST', '/rooms/lobby/messages', { message: 'as the service' }, { headers: { authorization: `Bearer ${API_KEY}` } });
    await call(node, 'POST', '/rooms/lobby/messages', { message: 'bad key' }, { headers: { authorization: `Bearer ${API_KEY}x` } });
    await socket.waitForMessages(3);
    await socket.close();
    await call(node, 'POST', '/auth/logout', undefined, { cookie });
    await node.close();

    const text = logs.text();
    // The run was logged, request by request: an empty log would pass the checks below trivially.
    expect(text).toContain('incoming request');
    expect(text).toContain('/auth/login');
    expect(text).toContain('logged in');
    const secrets = [PASSWORD, WRONG_PASSWORD, API_KEY, cookie, registered, sessionIdOf(cookie), sessionIdOf(registered)];
    for (const secret of secrets) {
      for (const form of forms(secret)) expect(text, `log contains ${form}`).not.toContain(form);
    }
  });

  it('binds a request’s lines to its reqId, at a level where the request logger is made only when used', async () => {
    const logs = logCapture();
    node = await startNode({ logLevel: 'info' }, { logStream: logs.stream });
    await register(node, 'carol', PASSWORD, { origin: node.url });
    await call(node, 'POST', '/auth/login', { username: 'carol', password: WRONG_PASSWORD });
    const lines = logs
      .text()
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as { msg?: string; reqId?: string; level: number });
    const registered = lines.find((line) => line.msg === 'registered');
    const refused = lines.find((line) => line.msg === 'login refused: wrong username or password');
    expect(registered?.reqId).toEqual(expect.any(String));
    expect(refused?.reqId).toEqual(expect.any(String));
    expect(refused?.reqId).not.toBe(registered?.reqId);
    // Debug lines stay off at info, through the request's logger too.
    expect(lines.every((line) => line.level >= 30)).toBe(true);
  });

  it('holds no connection token from a socket URL, good or bad, at debug level', async () => {
    const logs = logCapture();
    const secret = 'the-site-secret-the-site-secret-the-site';
    node = await startNode({ logLevel: 'debug', tokenSecret: secret }, { logStream: logs.stream });
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'HS256' }).setSubject('dave').setExpirationTime('5m').sign(new TextEncoder().encode(secret));
    const socket = await TestSocket.open(node.url, 'lobby', { query: { token } });
    await socket.close();
    const bad = `${token.slice(0, -4)}AAAA`;
    await call(node, 'GET', `/ws/chat/lobby/?token=${bad}`);
    await node.close();
    const text = logs.text();
    expect(text).toContain('token=[redacted]');
    for (const secretForm of [token, bad, secret]) expect(text).not.toContain(secretForm);
  });

  it('redacts the arguments of a failed Redis command (keys with session IDs, account records)', async () => {
    redis = await startRedis();
    const client = new Redis(redis.url, { lazyConnect: true });
    await client.connect();
    const logs = logCapture();
    node = await startNode({ logLevel: 'debug' }, { logStream: logs.stream });
    const sessionId = 'a-session-id-that-must-not-be-logged';
    const error = await client.set(`rc:session:${sessionId}`, '{"user":{"username":"alice"}}', 'PX', -1).catch((caught: unknown) => caught);
    client.disconnect();
    expect(error).toBeInstanceOf(Error);
    node.app.log.warn({ err: error }, 'session store failed');
    await node.close();

    const text = logs.text();
    expect(text).toContain('invalid expire time');
    expect(text).not.toContain(sessionId);
  });
});
