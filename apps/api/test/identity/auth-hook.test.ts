import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { refusedUpgrade, type TestNode } from '../helpers.js';
import { useFixtures } from './fixtures.js';

/** A stand-in for a Django view: `{"user": request.user.username}`, or 401 for nobody. */
async function startSite(): Promise<{ server: Server; url: string; asked: string[] }> {
  const asked: string[] = [];
  const server = createServer((request, response) => {
    const cookie = request.headers.cookie ?? '';
    asked.push(cookie);
    if (cookie.includes('sessionid=slow')) return; // never answers
    if (cookie.includes('sessionid=broken')) {
      response.writeHead(500).end('oops');
      return;
    }
    const user = /sessionid=user-(\w+)/.exec(cookie)?.[1];
    if (user === undefined) {
      response.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"not signed in"}');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ user }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/roomcast/whoami/`, asked };
}

describe('the auth hook', () => {
  let site: Awaited<ReturnType<typeof startSite>>;
  const fixtures = useFixtures();
  beforeEach(async () => {
    site = await startSite();
  });
  afterEach(async () => {
    site.server.closeAllConnections();
    await new Promise((resolve) => site.server.close(resolve));
  });
  const start = (overrides: Parameters<typeof fixtures.start>[0] = {}) => fixtures.start({ authHookUrl: site.url, ...overrides });
  const open = (node: TestNode, cookie: string) => fixtures.open(node, 'lobby', { headers: { cookie } });

  it('the site’s user becomes the socket’s user; its answer is cached; 401 makes a guest', async () => {
    const node = await start();
    const dave = await open(node, 'sessionid=user-dave; csrftoken=x');
    dave.send({ message: 'hi from django' });
    expect((await dave.waitForMessages(1))[0]).toMatchObject({ user: 'dave' });
    expect(site.asked).toEqual(['sessionid=user-dave; csrftoken=x']);
    await open(node, 'sessionid=user-dave; csrftoken=x');
    expect(site.asked).toHaveLength(1);

    const nobody = await open(node, 'sessionid=none');
    nobody.send({ message: 'who?' });
    expect((await nobody.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'who?'))).toMatchObject({ user: null });
  });

  it('401 under REQUIRE_LOGIN is refused with login_required', async () => {
    const node = await start({ requireLogin: true });
    expect(await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { cookie: 'sessionid=none' })).toMatchObject({ status: 401, body: { code: 'login_required' } });
  });

  it('a hook that does not answer in 2 s, answers 500, or is down refuses the upgrade with 503 unavailable', async () => {
    const node = await start();
    const started = Date.now();
    const slow = await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { cookie: 'sessionid=slow' });
    expect(slow).toEqual({ status: 503, body: { code: 'unavailable', error: expect.stringMatching(/within 2000 ms/) } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
    expect(await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { cookie: 'sessionid=broken' })).toMatchObject({ status: 503, body: { code: 'unavailable' } });

    site.server.closeAllConnections();
    await new Promise((resolve) => site.server.close(resolve));
    expect(await refusedUpgrade(`${node.url}/ws/chat/lobby/`, { cookie: 'sessionid=user-zed' })).toEqual({
      status: 503,
      body: { code: 'unavailable', error: expect.stringMatching(/cannot be reached/) },
    });
    site.server = createServer().listen(0); // closed again by afterEach
  });
});
