import type { IncomingHttpHeaders } from 'node:http';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, refusedUpgrade, startNode, type TestNode } from '../helpers.js';

describe('hardening', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('sends security headers with a strict Content-Security-Policy', async () => {
    node = await startNode();
    const response = await fetch(`${node.url}/healthz`);
    const csp = response.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });

  it('sends the same headers with a refused upgrade, and none of them with a 101', async () => {
    node = await startNode();
    const answer = (path: string) =>
      new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
        const ws = new WebSocket(`${node.url.replace(/^http/, 'ws')}${path}`);
        ws.once('unexpected-response', (_request, response) => {
          response.resume();
          resolve({ status: response.statusCode ?? 0, headers: response.headers });
        });
        ws.once('upgrade', (response) => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers });
          ws.once('open', () => ws.close());
        });
        ws.once('error', reject);
      });
    const refused = await answer('/ws/chat/no;room/');
    expect(refused.status).toBe(400);
    expect(refused.headers['content-security-policy']).toContain("default-src 'self'");
    expect(refused.headers['x-content-type-options']).toBe('nosniff');
    const upgraded = await answer('/ws/chat/lobby/');
    expect(upgraded.status).toBe(101);
    expect(upgraded.headers['content-security-policy']).toBeUndefined();
  });

  it('refuses upgrades on unknown paths with a JSON 404', async () => {
    node = await startNode();
    for (const path of ['/ws/nope', '/ws/chat/', '/socket.io/?EIO=4&transport=websocket']) {
      expect(await refusedUpgrade(`${node.url}${path}`)).toEqual({ status: 404, body: { error: expect.any(String), code: 'not_found' } });
    }
  });

  it('caps open sockets per address, and frees the slot when one closes', async () => {
    node = await startNode({ maxConnectionsPerIp: 3 });
    const open = await Promise.all([1, 2, 3].map(() => TestSocket.open(node.url, 'lobby')));
    const refusal = await refusedUpgrade(`${node.url}/ws/chat/lobby/`);
    expect(refusal).toEqual({ status: 429, body: { error: 'At most 3 open connections per address.', code: 'rate_limited' } });
    await open[0]!.close();
    await eventually(async () => {
      const socket = TestSocket.connect(node.url, 'lobby');
      try {
        await socket.opened;
        open.push(socket);
        return true;
      } catch {
        return false;
      }
    }, 5000, 'a free slot');
    await Promise.all(open.slice(1).map((socket) => socket.close()));
  });

  it('cuts a socket that stops answering pings, and it leaves presence', async () => {
    node = await startNode({ heartbeatMs: 150 });
    const watcher = await TestSocket.open(node.url, 'lobby');
    const zombie = new WebSocket(`${node.url.replace('http', 'ws')}/ws/chat/lobby/`, { autoPong: false });
    await new Promise((resolve) => zombie.once('open', resolve));
    const closed = new Promise<number>((resolve) => zombie.once('close', (code) => resolve(code)));
    // Presence frames are coalesced (the zombie may come and go within one), so its membership
    // is read from the presence itself.
    await eventually(async () => (await node.app.backend.presence.get('lobby')).anonymous === 2, 5000, 'zombie joined');
    expect(await closed).toBe(1006);
    await eventually(async () => (await node.app.backend.presence.get('lobby')).anonymous === 1, 5000, 'zombie gone from presence');
    await eventually(() => (watcher.frames.filter((f) => f.type === 'presence').at(-1) as { anonymous?: number } | undefined)?.anonymous === 1, 5000, 'the watcher told');
    // The watcher answers pings, so it stays.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(watcher.ws.readyState).toBe(WebSocket.OPEN);
    await watcher.close();
  });

  it('limits bodies on every route, auth included', async () => {
    node = await startNode();
    for (const path of ['/auth/login', '/auth/register', '/rooms/lobby/messages']) {
      const response = await fetch(`${node.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'someone', password: 'x'.repeat(70 * 1024) }),
      });
      expect({ path, status: response.status, code: ((await response.json()) as { code: string }).code }).toEqual({ path, status: 413, code: 'too_large' });
    }
  });

  it('serves Prometheus metrics that move with traffic', async () => {
    node = await startNode();
    const a = await TestSocket.open(node.url, 'lobby');
    const b = await TestSocket.open(node.url, 'lobby');
    a.send({ message: 'one' });
    a.send('not json');
    await b.waitForMessages(1);
    await a.waitFor((frame) => frame.type === 'error');
    const text = await (await fetch(`${node.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('roomcast_open_sockets')).toBe(2);
    expect(value('roomcast_rooms_active')).toBe(1);
    expect(value('roomcast_messages_in_total')).toBe(1);
    expect(value('roomcast_messages_out_total')).toBe(2);
    expect(value('roomcast_refused_frames_total{code="invalid_frame"}')).toBe(1);
    expect(value('roomcast_fanout_latency_ms_count')).toBe(1);
    expect(text).toContain('# TYPE roomcast_fanout_latency_ms histogram');
    expect(text).toContain('roomcast_slow_consumer_closes_total 0');
    expect(text).toContain('roomcast_redis_reconnects_total 0');
    // The standard process and Node metrics: CPU, memory, heap, event loop lag, GC, handles.
    // prom-client counts CPU from when the registry was made, in scheduler ticks, so a node this
    // young may honestly show 0: the counter must be there and be a number, not positive.
    expect(value('process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
    expect(value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(value('nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(value('nodejs_active_handles_total')).toBeGreaterThan(0);
    for (const name of ['nodejs_eventloop_lag_seconds gauge', 'nodejs_eventloop_lag_p99_seconds gauge', 'nodejs_gc_duration_seconds histogram']) {
      expect(text).toContain(`# TYPE ${name}`);
    }
    await Promise.all([a.close(), b.close()]);
  });
});
