import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { TestSocket, eventually, sleep, startNode, type TestNode } from '../helpers.js';
import { edgeRefusals, parseAnswer, rawConnect, timedGet, type RawConnection } from './edge-helpers.js';

/**
 * Finding: with every timeout at 0, 1,500 slow headers, upgrades and bodies stayed open 60 s;
 * 1,040 slow POSTs took all 1,024 descriptors and /healthz failed for everyone; an upgrade to
 * /healthz got 101 and was held 30 s, 600 past the per-address cap. Here the deadlines are short
 * (headers 1 s, request 2 s, keep-alive 1 s) so the test stays short; the defaults are 10/30/5 s.
 */

const TIMEOUTS = { headersTimeoutMs: 1000, requestTimeoutMs: 2000, keepAliveTimeoutMs: 1000 };
/** Node checks deadlines on a tick of a quarter of the header deadline: a cut comes that much late at most. */
const TICK_MS = 250;
/** Slack for a loaded 2-core machine. */
const SLACK_MS = 1500;
/** The bystander: any 127.x address is a different client to the server. */
const BYSTANDER = '127.0.0.3';

/** Polls /healthz from the bystander every 100 ms until `stop` resolves; every status and the slowest. */
async function watchHealth(port: number, stop: Promise<unknown>): Promise<{ statuses: number[]; slowestMs: number }> {
  const statuses: number[] = [];
  let slowestMs = 0;
  let done = false;
  void stop.finally(() => (done = true));
  while (!done) {
    const { status, ms } = await timedGet(port, '/healthz', BYSTANDER).catch(() => ({ status: 0, ms: 0 }));
    statuses.push(status);
    slowestMs = Math.max(slowestMs, ms);
    await sleep(100);
  }
  return { statuses, slowestMs };
}

describe('slow and foreign connections', () => {
  let node: TestNode;
  const open: RawConnection[] = [];
  afterEach(async () => {
    for (const connection of open.splice(0)) connection.destroy();
    await node.close();
  });

  it('cuts slow headers at the header deadline and slow bodies at the request deadline, with 408, while /healthz answers throughout', async () => {
    node = await startNode({ ...TIMEOUTS, maxConnectionsPerIp: 100 });
    const slowHeaders = await Promise.all(Array.from({ length: 20 }, () => rawConnect(node.port)));
    const slowBodies = await Promise.all(Array.from({ length: 20 }, () => rawConnect(node.port)));
    open.push(...slowHeaders, ...slowBodies);
    for (const connection of slowHeaders) {
      connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      connection.drip(`X-Slow: ${'a'.repeat(200)}\r\n\r\n`, 100);
    }
    for (const connection of slowBodies) {
      connection.socket.write('POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n');
      connection.drip(`{"username":"${'a'.repeat(280)}"}`, 100);
    }
    const cut = Promise.all([...slowHeaders, ...slowBodies].map((connection) => connection.closedAfter));
    const health = watchHealth(node.port, cut);
    const [headerCuts, bodyCuts] = [await Promise.all(slowHeaders.map((c) => c.closedAfter)), await Promise.all(slowBodies.map((c) => c.closedAfter))];
    const { statuses, slowestMs } = await health;

    expect(Math.min(...headerCuts)).toBeGreaterThanOrEqual(TIMEOUTS.headersTimeoutMs - 50);
    expect(Math.max(...headerCuts)).toBeLessThanOrEqual(TIMEOUTS.headersTimeoutMs + TICK_MS + SLACK_MS);
    expect(Math.min(...bodyCuts)).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeoutMs - 50);
    expect(Math.max(...bodyCuts)).toBeLessThanOrEqual(TIMEOUTS.requestTimeoutMs + TICK_MS + SLACK_MS);
    for (const connection of [...slowHeaders, ...slowBodies]) {
      expect(parseAnswer(connection.received())).toEqual({ status: 408, body: { error: expect.any(String), code: 'timeout' } });
    }
    expect(statuses.length).toBeGreaterThanOrEqual(5);
    expect(statuses.every((status) => status === 200)).toBe(true);
    expect(slowestMs).toBeLessThan(1000);
  });

  it('answers an upgrade to /healthz (or any route but the chat socket) with a JSON 404 and closes it, no 101', async () => {
    node = await startNode({ ...TIMEOUTS, maxConnectionsPerIp: 100 });
    const upgrades = await Promise.all(Array.from({ length: 30 }, () => rawConnect(node.port)));
    open.push(...upgrades);
    for (const [n, connection] of upgrades.entries()) {
      const path = ['/healthz', '/rooms/lobby/messages', '/auth/me'][n % 3]!;
      connection.socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
      );
    }
    const closedAfter = await Promise.all(upgrades.map((connection) => connection.closedAfter));
    expect(Math.max(...closedAfter)).toBeLessThan(1000);
    for (const connection of upgrades) {
      expect(connection.received()).not.toContain(' 101 ');
      expect(parseAnswer(connection.received())).toEqual({ status: 404, body: { error: expect.stringContaining('No WebSocket at'), code: 'not_found' } });
    }
  });

  it('holds 150 slow POSTs from one address to its 50-connection cap: the rest get 429 and are gone within a second, /healthz stays up', async () => {
    node = await startNode({ ...TIMEOUTS, maxConnectionsPerIp: 50 });
    const attackers = await Promise.all(Array.from({ length: 150 }, () => rawConnect(node.port)));
    open.push(...attackers);
    for (const connection of attackers) {
      connection.socket.write('POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 300\r\n\r\n{');
    }
    const health = watchHealth(node.port, sleep(1500));
    await sleep(1200);
    expect(node.app.connectionsPerClient.open('127.0.0.1')).toBe(50);
    const refused = attackers.filter((connection) => connection.socket.destroyed);
    expect(refused).toHaveLength(100);
    for (const connection of refused) {
      expect(parseAnswer(connection.received())).toEqual({ status: 429, body: { error: 'At most 50 open connections per address.', code: 'rate_limited' } });
    }
    const { statuses } = await health;
    expect(statuses.every((status) => status === 200)).toBe(true);
    // The 50 it kept stalled after one byte of body: cut at the request deadline, with a 408.
    const kept = attackers.filter((connection) => !refused.includes(connection));
    expect(Math.max(...(await Promise.all(kept.map((c) => c.closedAfter))))).toBeLessThanOrEqual(TIMEOUTS.requestTimeoutMs + TICK_MS + SLACK_MS);
    for (const connection of kept) expect(parseAnswer(connection.received())).toMatchObject({ status: 408, body: { code: 'timeout' } });
    await eventually(() => node.app.connectionsPerClient.open('127.0.0.1') === 0, 2000, 'the server to release every slot');
    expect(await edgeRefusals(node.port, BYSTANDER)).toEqual({ connections_per_address: 100, request_timeout: 50 });
  });

  it('closes an idle keep-alive connection after the keep-alive timeout', async () => {
    node = await startNode(TIMEOUTS);
    const connection = await rawConnect(node.port);
    open.push(connection);
    connection.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    const closedAfter = await connection.closedAfter;
    expect(parseAnswer(connection.received()).status).toBe(200);
    expect(closedAfter).toBeGreaterThanOrEqual(TIMEOUTS.keepAliveTimeoutMs - 50);
    expect(closedAfter).toBeLessThanOrEqual(TIMEOUTS.keepAliveTimeoutMs + SLACK_MS);
  });

  it('starts with deadlines past the Node 300 s request default, and applies them', async () => {
    node = await startNode({ headersTimeoutMs: 400_000, requestTimeoutMs: 500_000, keepAliveTimeoutMs: 65_000 });
    const { headersTimeout, requestTimeout, keepAliveTimeout } = node.app.server;
    expect({ headersTimeout, requestTimeout, keepAliveTimeout }).toEqual({ headersTimeout: 400_000, requestTimeout: 500_000, keepAliveTimeout: 65_000 });
  });

  it('leaves a quiet chat socket open past every HTTP deadline', async () => {
    node = await startNode(TIMEOUTS);
    const quiet = await TestSocket.open(node.url, 'lobby');
    await sleep(TIMEOUTS.requestTimeoutMs + 1000);
    expect(quiet.ws.readyState).toBe(WebSocket.OPEN);
    quiet.send({ message: 'still here' });
    expect((await quiet.waitForMessages(1))[0]!.message).toBe('still here');
    await quiet.close();
  });
});
