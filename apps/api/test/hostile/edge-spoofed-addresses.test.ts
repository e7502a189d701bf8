import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Config } from '../../src/config.js';
import { AUTH_LIMITS } from '../../src/routes/auth.js';
import { PASSWORD } from '../auth-helpers.js';
import { connected, redisClient } from '../backends.js';
import { TestSocket, startNode, startRedis, type TestNode, type TestRedis } from '../helpers.js';
import { startAppendingProxy, type TestProxy } from './edge-helpers.js';

/**
 * Finding: behind the README's nginx (which appends to X-Forwarded-For) with TRUST_PROXY=true,
 * a client that wrote a new address into X-Forwarded-For each time got 400 of 400 sockets past a
 * cap of 200, 40 of 40 registrations past a limit of 20, and no 429 on 60 wrong logins. Here the
 * same attack runs through a proxy that appends as nginx does: every request counts as the one
 * client the proxy saw.
 */

const spoofed = (n: number): Record<string, string> => ({ 'x-forwarded-for': `10.${n >> 8}.${n & 255}.7` });

/** The attacker's own address: not the proxy's (127.0.0.1), or an address list would trust it too. */
const ATTACKER = '127.0.0.2';

async function post(base: string, path: string, body: unknown, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  await response.arrayBuffer();
  return response.status;
}

/** Opens a socket to `lobby` from `from`; resolves 101 when open, else the refusal's status. */
function upgradeStatus(base: string, headers: Record<string, string>, opened: WebSocket[], from = ATTACKER): Promise<number> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws/chat/lobby/`, { headers, localAddress: from });
  opened.push(ws);
  return new Promise((resolve) => {
    ws.once('open', () => resolve(101));
    ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    ws.once('error', () => resolve(0));
  });
}

const count = (statuses: number[], status: number): number => statuses.filter((s) => s === status).length;

/** Attempts a token bucket lets through in `ms`: its burst plus what refilled meanwhile. */
const allowance = ({ rate, burst }: { rate: number; burst: number }, ms: number): number => burst + Math.ceil((ms / 1000) * rate);

describe.each([
  ['a hop count (TRUST_PROXY=1)', 1],
  ['the proxy address (TRUST_PROXY=127.0.0.1)', ['127.0.0.1']],
] as Array<[string, Config['trustProxy']]>)('spoofed X-Forwarded-For behind a proxy, trusting %s', (_name, trustProxy) => {
  let node: TestNode;
  let proxy: TestProxy;
  afterEach(async () => {
    await proxy.close();
    await node.close();
  });

  it('counts 40 sockets with 40 made-up addresses as one client: 20 open under a cap of 20, 20 refused with 429', async () => {
    node = await startNode({ trustProxy, maxConnectionsPerIp: 20 });
    proxy = await startAppendingProxy(node.port);
    const sockets: WebSocket[] = [];
    const statuses = await Promise.all(Array.from({ length: 40 }, (_, n) => upgradeStatus(proxy.url, spoofed(n), sockets)));
    expect({ open: count(statuses, 101), refused: count(statuses, 429) }).toEqual({ open: 20, refused: 20 });
    expect(node.app.connectionsPerClient.open(ATTACKER)).toBe(20);
    for (const ws of sockets) ws.terminate();
  });

  it('does not cap the proxy itself: two clients behind it open 15 sockets each under a cap of 20', async () => {
    node = await startNode({ trustProxy, maxConnectionsPerIp: 20 });
    proxy = await startAppendingProxy(node.port);
    const sockets: WebSocket[] = [];
    const statuses = await Promise.all(
      ['127.0.0.2', '127.0.0.4'].flatMap((from) => Array.from({ length: 15 }, (_, n) => upgradeStatus(proxy.url, spoofed(n), sockets, from))),
    );
    expect(count(statuses, 101)).toBe(30);
    expect([node.app.connectionsPerClient.open('127.0.0.2'), node.app.connectionsPerClient.open('127.0.0.4')]).toEqual([15, 15]);
    for (const ws of sockets) ws.terminate();
  });
});

describe.each(['memory', 'redis'])('spoofed X-Forwarded-For against the auth limits (%s backend)', (backend) => {
  let redis: TestRedis | undefined;
  let node: TestNode;
  let proxy: TestProxy;
  beforeAll(async () => {
    if (backend === 'redis') redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    await proxy.close();
    await node.close();
    if (redis) {
      const admin = await connected(redisClient(redis.url));
      await admin.flushall();
      admin.disconnect();
    }
  });
  const start = async (): Promise<void> => {
    node = await startNode({ trustProxy: 1, ...(redis ? { redisUrl: redis.url } : {}) });
    proxy = await startAppendingProxy(node.port);
  };

  it(`holds 40 registrations from 40 made-up addresses to the per-address burst (${AUTH_LIMITS.registerPerIp.burst})`, async () => {
    await start();
    const statuses: number[] = [];
    const started = Date.now();
    for (let n = 0; n < 40; n += 1) {
      statuses.push(await post(proxy.url, '/auth/register', { username: `spoof${n}`, password: PASSWORD }, spoofed(n)));
    }
    const allowed = allowance(AUTH_LIMITS.registerPerIp, Date.now() - started);
    expect(count(statuses, 201)).toBeGreaterThanOrEqual(AUTH_LIMITS.registerPerIp.burst);
    expect(count(statuses, 201)).toBeLessThanOrEqual(allowed);
    expect(count(statuses, 429)).toBe(40 - count(statuses, 201));
  });

  it(`refuses wrong logins from made-up addresses with 429 after the per-address burst (${AUTH_LIMITS.loginPerIp.burst})`, async () => {
    await start();
    const statuses: number[] = [];
    const started = Date.now();
    for (let n = 0; n < 60; n += 1) {
      // Malformed names cost no hash but count against the address all the same.
      statuses.push(await post(proxy.url, '/auth/login', { username: `?${n}`, password: PASSWORD }, spoofed(n)));
    }
    const allowed = allowance(AUTH_LIMITS.loginPerIp, Date.now() - started);
    expect(statuses.slice(0, AUTH_LIMITS.loginPerIp.burst)).toEqual(Array(AUTH_LIMITS.loginPerIp.burst).fill(401));
    expect(count(statuses, 401)).toBeLessThanOrEqual(allowed);
    expect(count(statuses, 429)).toBe(60 - count(statuses, 401));
  });
});

describe('without TRUST_PROXY', () => {
  it('ignores X-Forwarded-For altogether: a socket cap of 3 holds against 6 made-up addresses', async () => {
    const node = await startNode({ maxConnectionsPerIp: 3 });
    try {
      const sockets = Array.from({ length: 6 }, (_, n) => TestSocket.connect(node.url, 'lobby', { headers: spoofed(n) }));
      const opened = await Promise.all(sockets.map((socket) => socket.opened.then(() => true, () => false)));
      expect(opened.filter(Boolean)).toHaveLength(3);
      await Promise.all(sockets.map((socket) => socket.close()));
    } finally {
      await node.close();
    }
  });
});

describe('addresses inside one IPv6 /64', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });
  // The node trusts one hop and the test speaks as that proxy: X-Forwarded-For is the client.
  const inOneSlash64 = (n: number): Record<string, string> => ({ 'x-forwarded-for': `2001:db8:7:7:${((n * 7919) % 65536).toString(16)}::${n + 1}` });

  it('count as one client for the login limit: 60 attempts from 60 addresses of one /64 meet 429 after the burst', async () => {
    node = await startNode({ trustProxy: 1 });
    const statuses: number[] = [];
    const started = Date.now();
    for (let n = 0; n < 60; n += 1) statuses.push(await post(node.url, '/auth/login', { username: `?${n}`, password: PASSWORD }, inOneSlash64(n)));
    expect(statuses.slice(0, AUTH_LIMITS.loginPerIp.burst).every((status) => status === 401)).toBe(true);
    expect(count(statuses, 401)).toBeLessThanOrEqual(allowance(AUTH_LIMITS.loginPerIp, Date.now() - started));
    expect(count(statuses, 429)).toBeGreaterThanOrEqual(60 - allowance(AUTH_LIMITS.loginPerIp, Date.now() - started));
    // Another /64 is another client.
    expect(await post(node.url, '/auth/login', { username: '?other', password: PASSWORD }, { 'x-forwarded-for': '2001:db8:7:8::1' })).toBe(401);
  });

  it('count as one client for the socket cap: 10 sockets from 10 addresses of one /64, 5 open under a cap of 5', async () => {
    node = await startNode({ trustProxy: 1, maxConnectionsPerIp: 5 });
    const sockets = Array.from({ length: 10 }, (_, n) => TestSocket.connect(node.url, 'lobby', { headers: inOneSlash64(n) }));
    const opened = await Promise.all(sockets.map((socket) => socket.opened.then(() => true, () => false)));
    expect(opened.filter(Boolean)).toHaveLength(5);
    expect(node.app.connectionsPerClient.open('2001:db8:7:7::/64')).toBe(5);
    await Promise.all(sockets.map((socket) => socket.close()));
  });
});
