import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, messageIds, messageTexts, openPage, postMessage, sendFromPage, startServer, waitConnected, type OpenPage, type ServerHandle } from './helpers.js';

const ROOM = 'history-300';
const SEEDED = 300;
const seedText = (n: number) => `seed message ${String(n).padStart(3, '0')}`;

/** Scroll position of the log: how far from the top and from the bottom. */
const logPosition = (page: Page) =>
  page.getByTestId('log').evaluate((el) => ({ top: el.scrollTop, fromBottom: el.scrollHeight - el.scrollTop - el.clientHeight }));

describe('history', () => {
  let server: ServerHandle;
  let browser: Browser;
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    server = await startServer({ SOCKET_RATE: '0' });
    for (let n = 1; n <= SEEDED; n += 1) await postMessage(server.url, ROOM, seedText(n));
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((open) => open.context.close()));
    await browser?.close();
    await server?.stop();
  });

  const enter = async (room: string): Promise<OpenPage> => {
    const open = await openPage(browser);
    pages.push(open);
    await open.page.goto(`${server.url}/chat/${room}/`);
    await waitConnected(open);
    return open;
  };

  it('opens at the newest messages and loads every older one, once each, as you scroll up', async () => {
    const { page, problems } = await enter(ROOM);
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThanOrEqual(50);
    expect((await messageTexts(page)).at(-1)).toBe(seedText(SEEDED));
    expect(await page.getByTestId('message').count()).toBeLessThan(SEEDED);
    expect((await logPosition(page)).fromBottom).toBeLessThanOrEqual(48);

    // Scroll to the top again and again, as a reader would, until the room's start shows.
    for (let round = 0; round < 20 && (await page.getByTestId('log-start').count()) === 0; round += 1) {
      const before = await page.getByTestId('message').count();
      await page.getByTestId('log').evaluate((el) => el.scrollTo({ top: 0 }));
      await expect.poll(async () => (await page.getByTestId('message').count()) > before || (await page.getByTestId('log-start').count()) > 0).toBe(true);
    }
    expect(await page.getByTestId('log-start').innerText()).toContain(`beginning of #${ROOM}`);
    const texts = await messageTexts(page);
    expect(texts).toEqual(Array.from({ length: SEEDED }, (_, index) => seedText(index + 1)));
    const ids = await messageIds(page);
    expect(new Set(ids).size).toBe(SEEDED);
    expect(problems).toEqual([]);
  });

  it('keeps the reader’s place when older messages load above', async () => {
    const { page } = await enter(ROOM);
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThanOrEqual(50);
    const loaded = await page.getByTestId('message').count();
    // The first message on screen before loading must be the first on screen after it.
    const firstVisible = () =>
      page.getByTestId('log').evaluate((log) => {
        const top = log.getBoundingClientRect().top;
        const rows = [...log.querySelectorAll<HTMLElement>('[data-testid="message"]')];
        return rows.find((row) => row.getBoundingClientRect().bottom > top + 1)?.dataset.id;
      });
    await page.getByTestId('log').evaluate((el) => el.scrollTo({ top: 150 }));
    const anchor = await firstVisible();
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThan(loaded);
    expect(await firstVisible()).toBe(anchor);
  });

  it('keeps the history across a reload', async () => {
    const open = await enter('reload-room');
    const { page } = open;
    await sendFromPage(page, 'before the reload');
    await expect.poll(() => page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(1);
    await postMessage(server.url, 'reload-room', 'from the service');
    await expect.poll(() => messageTexts(page)).toEqual(['before the reload', 'from the service']);

    await page.reload();
    await waitConnected(open);
    await expect.poll(() => messageTexts(page)).toEqual(['before the reload', 'from the service']);
    // A guest's own message is still marked as theirs after the reload.
    expect(await page.getByTestId('message').first().getAttribute('data-mine')).toBe('true');
    expect(await page.getByTestId('message').nth(1).getByTestId('author').innerText()).toBe('service');
  });

  it('follows new messages at the bottom, and leaves a reader who scrolled up where they are', async () => {
    const { page } = await enter(ROOM);
    await expect.poll(() => page.getByTestId('message').count()).toBeGreaterThanOrEqual(50);

    await postMessage(server.url, ROOM, 'live while at the bottom');
    await expect.poll(() => messageTexts(page).then((texts) => texts.at(-1))).toBe('live while at the bottom');
    await expect.poll(async () => (await logPosition(page)).fromBottom).toBeLessThanOrEqual(48);

    // Scroll up a little (not far enough to load older messages), then a message arrives.
    await page.getByTestId('log').evaluate((el) => el.scrollTo({ top: el.scrollHeight - el.clientHeight - 600 }));
    const before = await logPosition(page);
    await postMessage(server.url, ROOM, 'live while scrolled up');
    await expect.poll(() => messageTexts(page).then((texts) => texts.at(-1))).toBe('live while scrolled up');
    const after = await logPosition(page);
    expect(after.top).toBe(before.top);
    expect(await page.getByTestId('jump').innerText()).toContain('1 new message');

    await page.getByTestId('jump').click();
    await expect.poll(async () => (await logPosition(page)).fromBottom).toBeLessThanOrEqual(48);
    expect(await page.getByTestId('jump').count()).toBe(0);
  });
});
