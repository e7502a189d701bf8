import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  launchBrowser,
  logInIn,
  openPage,
  registerIn,
  screenshot,
  sendFromPage,
  startRedis,
  startServer,
  waitConnected,
  type OpenPage,
  type ServerHandle,
  type TestRedis,
} from './helpers.js';

/** One room's line in the lobby's "My rooms": unread and mention counts as the page shows them. */
async function myRoom(page: Page, room: string): Promise<{ unread: number; mentions: number } | undefined> {
  const row = page.locator(`[data-testid="my-room"][data-room="${room}"]`);
  if ((await row.count()) === 0) return undefined;
  return { unread: Number(await row.getAttribute('data-unread')), mentions: Number(await row.getAttribute('data-mentions')) };
}

/**
 * Headless Chromium keeps every page visible, so a test hides one the way the browser would tell
 * it: `document.visibilityState` and a `visibilitychange` event.
 */
async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((hide) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hide ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hide });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

/**
 * One person on two devices (two contexts signed in as the same user), each on its own node of
 * two server processes sharing one Redis: unread and mention counts follow what they read on
 * either, the tab title counts them, and the room marks where the new messages start.
 */
describe('unread and mentions across two devices and two nodes', () => {
  let redis: TestRedis;
  let nodes: ServerHandle[] = [];
  let browser: Browser;
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    nodes = await Promise.all([0, 1].map(() => startServer({ REDIS_URL: redis.url, SOCKET_RATE: '0' })));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((open) => open.context.close()));
    await browser?.close();
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await redis?.stop();
  });

  const device = async (): Promise<OpenPage> => {
    const open = await openPage(browser);
    pages.push(open);
    return open;
  };

  it('counts what arrived since the last read, clears it when either device reads, and says so in the title', async () => {
    const [one, two] = nodes as [ServerHandle, ServerHandle];
    const laptop = await device();
    await registerIn(laptop.context, one.url, 'lena');
    const phone = await device();
    await logInIn(phone.context, two.url, 'lena');
    // The phone allows notifications, and the test reads the titles of those the page raises.
    await phone.context.grantPermissions(['notifications']);
    await phone.context.addInitScript(() => {
      const Real = window.Notification;
      const notified: string[] = [];
      class Recorded extends Real {
        constructor(title: string, options?: NotificationOptions) {
          notified.push(title);
          super(title, options);
        }
      }
      Object.assign(window, { __notified: notified });
      Object.defineProperty(window, 'Notification', { configurable: true, value: Recorded });
    });
    const omar = await device();
    await registerIn(omar.context, two.url, 'omar');

    // Lena talks in #standup on her laptop (node one), then goes back to the lobby.
    await laptop.page.goto(`${one.url}/chat/standup/`);
    await waitConnected(laptop);
    await omar.page.goto(`${two.url}/chat/standup/`);
    await waitConnected(omar);
    await sendFromPage(laptop.page, 'I will be late today');
    await expect.poll(() => omar.page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(1);
    await laptop.page.getByRole('link', { name: 'Back to the lobby' }).click();
    await phone.page.goto(`${two.url}/`);
    for (const page of [laptop.page, phone.page]) await expect.poll(() => myRoom(page, 'standup')).toEqual({ unread: 0, mentions: 0 });
    expect(await phone.page.title()).toBe('Roomcast');

    // Omar (node two) writes three messages, one for Lena.
    await sendFromPage(omar.page, 'No problem');
    await sendFromPage(omar.page, '@lena can you take the demo?');
    await sendFromPage(omar.page, 'Standup starts in 5');
    for (const page of [laptop.page, phone.page]) {
      await expect.poll(() => myRoom(page, 'standup')).toEqual({ unread: 3, mentions: 1 });
      await expect.poll(() => page.title()).toBe('(3) Roomcast');
    }
    await screenshot(laptop.page, 'lobby-my-rooms');

    // She opens the room on her phone (node two): the divider is above the first new message,
    // the mention stands out, and her laptop's lobby (node one) sees the room read.
    await phone.page.locator('[data-testid="my-room"][data-room="standup"]').click();
    await waitConnected(phone);
    const rows = phone.page.getByTestId('message');
    await expect.poll(() => rows.count()).toBe(4);
    await expect.poll(() => rows.nth(1).getByTestId('unread-divider').count()).toBe(1);
    expect(await phone.page.getByTestId('unread-divider').count()).toBe(1);
    expect(await rows.nth(2).getAttribute('data-mentions-me')).toBe('true');
    await screenshot(phone.page, 'room-unread-divider');
    expect(await phone.page.title()).toBe('#standup · Roomcast');
    await expect.poll(() => myRoom(laptop.page, 'standup')).toEqual({ unread: 0, mentions: 0 });
    await expect.poll(() => laptop.page.title()).toBe('Roomcast');

    // Her phone's tab goes to the background: what arrives meanwhile is counted in its title, and
    // a notification is raised for a mention.
    await phone.page.getByTestId('notify-mentions').check();
    await setHidden(phone.page, true);
    await sendFromPage(omar.page, 'Slides are in the drive');
    await sendFromPage(omar.page, 'thanks @lena!');
    await expect.poll(() => phone.page.title()).toBe('(2) #standup · Roomcast');
    await expect.poll(() => phone.page.evaluate(() => (window as unknown as { __notified: string[] }).__notified)).toEqual([
      'omar mentioned you in #standup',
    ]);
    // Hidden, it does not mark them read: the laptop still sees them as new.
    await expect.poll(() => myRoom(laptop.page, 'standup')).toEqual({ unread: 2, mentions: 1 });
    await expect.poll(() => laptop.page.title()).toBe('(2) Roomcast');

    // Back in front: the count goes, the divider moved to where she left, the read reaches node one.
    await setHidden(phone.page, false);
    await expect.poll(() => phone.page.title()).toBe('#standup · Roomcast');
    expect(await rows.nth(4).getByTestId('unread-divider').count()).toBe(1);
    await expect.poll(() => myRoom(laptop.page, 'standup')).toEqual({ unread: 0, mentions: 0 });
    await expect.poll(() => laptop.page.title()).toBe('Roomcast');
    for (const open of [laptop, phone, omar]) expect(open.problems).toEqual([]);
  });
});
