import { compareMessageIds } from '@roomcast/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  messageIds,
  messageTexts,
  openPage,
  postMessage,
  sendFromPage,
  startLink,
  startRedis,
  startServer,
  type Link,
  waitConnected,
  type OpenPage,
  type TestRedis,
  type ServerHandle,
} from './helpers.js';

const connectionState = (page: Page) => page.getByTestId('connection').getAttribute('data-state');

/** Every message the page shows was posted, in the order posted, once: no gap, no duplicate. */
async function expectExactly(page: Page, posted: Array<{ id: string; message: string }>): Promise<void> {
  await expect.poll(() => page.getByTestId('message').count(), { timeout: 30_000 }).toBeGreaterThanOrEqual(posted.length);
  expect(await messageTexts(page)).toEqual(posted.map((item) => item.message));
  expect(await messageIds(page)).toEqual(posted.map((item) => item.id));
}

describe('catching up after a network drop', () => {
  let server: ServerHandle;
  let link: Link;
  let browser: Browser;
  let open: OpenPage | undefined;

  beforeAll(async () => {
    server = await startServer({ SOCKET_RATE: '0' });
    link = await startLink(server.port);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await open?.context.close();
    await browser?.close();
    await link?.close();
    await server?.stop();
  });

  it('shows reconnecting while the network is gone, then every message it missed, none doubled', async () => {
    const current = await openPage(browser);
    open = current;
    const { page } = current;
    const posted: Array<{ id: string; message: string }> = [];
    for (let n = 1; n <= 3; n += 1) posted.push(await postMessage(server.url, 'drop-room', `before ${n}`));
    // The page reaches the server only through the link we can cut.
    await page.goto(`${link.url}/chat/drop-room/`);
    await waitConnected(current);
    await expectExactly(page, posted);

    link.down();
    await expect.poll(() => connectionState(page)).toBe('reconnecting');
    // Written while offline: it waits, visibly pending, and goes out when the link is back.
    await sendFromPage(page, 'written offline');
    expect(await page.locator('[data-testid="message"][data-state="pending"]').count()).toBe(1);
    for (let n = 1; n <= 10; n += 1) posted.push(await postMessage(server.url, 'drop-room', `missed ${n}`));
    expect(await connectionState(page)).toBe('reconnecting');

    link.restore();
    await expect.poll(() => connectionState(page), { timeout: 30_000 }).toBe('connected');
    await expect.poll(() => page.locator('[data-testid="message"][data-state="pending"]').count()).toBe(0);
    const texts = await messageTexts(page);
    expect(texts.filter((text) => text === 'written offline')).toHaveLength(1);
    const others = (await page.locator('[data-testid="message"][data-mine="false"]').evaluateAll((rows) =>
      rows.map((row) => [row.getAttribute('data-id'), row.querySelector('[data-testid="text"]')?.textContent]),
    )) as Array<[string, string]>;
    expect(others).toEqual(posted.map((item) => [item.id, item.message]));
    expect(new Set(await messageIds(page)).size).toBe(posted.length + 1);
    expect(current.problems).toEqual([]);
  });
});

describe('a send whose confirmation is lost on the way', () => {
  let server: ServerHandle;
  let link: Link;
  let browser: Browser;
  let open: OpenPage | undefined;

  beforeAll(async () => {
    server = await startServer({ SOCKET_RATE: '0' });
    link = await startLink(server.port);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await open?.context.close();
    await browser?.close();
    await link?.close();
    await server?.stop();
  });

  it('turns confirmed after the reconnect, shown once, though the server stored it before the drop', async () => {
    const current = await openPage(browser);
    open = current;
    const { page } = current;
    await page.goto(`${link.url}/chat/lost-echo/`);
    await waitConnected(current);

    // The message reaches the server and is stored, but its copy never comes back...
    link.hold('down');
    await sendFromPage(page, 'stored, echo lost');
    await expect
      .poll(async () => {
        const response = await fetch(`${server.url}/rooms/lost-echo/messages`);
        const body = (await response.json()) as { messages: Array<{ message: string }> };
        return body.messages.map((item) => item.message);
      })
      .toEqual(['stored, echo lost']);
    expect(await page.locator('[data-testid="message"][data-state="pending"]').count()).toBe(1);

    // ...then the connection drops. The page resends under the same nonce after the reconnect.
    link.down();
    await expect.poll(() => connectionState(page)).toBe('reconnecting');
    link.restore();
    await waitConnected(current, 30_000);

    await expect.poll(() => page.locator('[data-testid="message"][data-state="pending"]').count()).toBe(0);
    expect(await messageTexts(page)).toEqual(['stored, echo lost']);
    const row = page.getByTestId('message').first();
    expect(await row.getAttribute('data-state')).toBe('confirmed');
    expect(await row.getAttribute('data-mine')).toBe('true');
    // And the server kept it once.
    const stored = (await (await fetch(`${server.url}/rooms/lost-echo/messages`)).json()) as { messages: unknown[] };
    expect(stored.messages).toHaveLength(1);
    expect(current.problems).toEqual([]);
  });
});

describe('catching up after a server restart (Redis backend)', () => {
  let redis: TestRedis;
  let node: ServerHandle | undefined;
  let other: ServerHandle;
  let browser: Browser;
  let open: OpenPage | undefined;
  let stopPosting: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    // Two nodes on one Redis: the page's node restarts, the other keeps taking messages.
    node = await startServer({ REDIS_URL: redis.url, SOCKET_RATE: '0' });
    other = await startServer({ REDIS_URL: redis.url, SOCKET_RATE: '0' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await stopPosting?.();
  });
  afterAll(async () => {
    await open?.context.close();
    await browser?.close();
    await node?.stop();
    await other?.stop();
    await redis?.stop();
  });

  it('shows reconnecting, then catches up with every message posted while it was down, none doubled', async () => {
    const current = await openPage(browser);
    open = current;
    const { page } = current;
    const port = node!.port;
    await page.goto(`${node!.url}/chat/restart-room/`);
    await waitConnected(current);

    // Another client posts all along, before, during and after the restart.
    const posted: Array<{ id: string; message: string }> = [];
    let posting = true;
    let count = 0;
    const poster = (async () => {
      while (posting) {
        count += 1;
        posted.push(await postMessage(other.url, 'restart-room', `steady ${count}`));
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    })();
    stopPosting = async () => {
      posting = false;
      await poster;
    };
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThanOrEqual(5);

    await node!.stop();
    await expect.poll(() => connectionState(page)).toBe('reconnecting');
    const postedWhileDown = posted.length;
    await expect.poll(() => posted.length - postedWhileDown).toBeGreaterThanOrEqual(10);

    node = await startServer({ REDIS_URL: redis.url, SOCKET_RATE: '0' }, port);
    await expect.poll(() => connectionState(page), { timeout: 30_000 }).toBe('connected');
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThan(postedWhileDown + 10);
    await stopPosting();

    posted.sort((a, b) => compareMessageIds(a.id, b.id));
    await expectExactly(page, posted);
    expect(current.problems).toEqual([]);
  });
});
