import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, startServer, waitConnected, type OpenPage, type ServerHandle } from './helpers.js';

describe('the lobby', () => {
  let server: ServerHandle;
  let browser: Browser;
  let pages: OpenPage[] = [];

  beforeAll(async () => {
    server = await startServer({ SOCKET_RATE: '0' });
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.allSettled(pages.map((open) => open.context.close()));
    pages = [];
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  const fresh = async (path = '/'): Promise<OpenPage> => {
    const open = await openPage(browser);
    pages.push(open);
    await open.page.goto(`${server.url}${path}`);
    return open;
  };

  it('refuses a room name the server would refuse, saying why, and joins a valid one', async () => {
    const { page } = await fresh();
    const input = page.getByLabel('Room name');
    for (const [name, why] of [
      ['my room', /letters, digits/i],
      ['a'.repeat(65), /at most 64/i],
      ['', /type a room name/i],
    ] as const) {
      await input.fill(name);
      await page.getByTestId('join').click();
      await expect.poll(() => page.getByTestId('room-error').innerText()).toMatch(why);
      expect(await input.getAttribute('aria-invalid')).toBe('true');
      expect(new URL(page.url()).pathname).toBe('/');
    }
    await input.fill('Team_room-1');
    await input.press('Enter');
    await page.waitForURL(`${server.url}/chat/Team_room-1/`);
    expect(await page.getByTestId('room-name').innerText()).toBe('#Team_room-1');
  });

  it('sends a deep link with a bad room name back to the lobby, which says what is wrong', async () => {
    const { page } = await fresh('/chat/bad%20name/');
    await page.waitForURL((url) => url.pathname === '/');
    expect(await page.getByLabel('Room name').inputValue()).toBe('bad name');
    expect(await page.getByTestId('room-error').innerText()).toMatch(/letters, digits/i);
  });

  it('lists rooms with people online and their counts, and a click joins one', async () => {
    const first = await fresh('/chat/busy-room/');
    const second = await fresh('/chat/busy-room/');
    const third = await fresh('/chat/quiet-room/');
    for (const open of [first, second, third]) await waitConnected(open);

    const { page } = await fresh();
    const busy = page.locator('[data-testid="online-room"][data-room="busy-room"]');
    await expect.poll(() => busy.innerText()).toMatch(/#busy-room\s+2 online/);
    expect(await page.locator('[data-testid="online-room"][data-room="quiet-room"]').innerText()).toMatch(/1 online/);
    // Busiest first.
    expect(await page.getByTestId('online-room').first().getAttribute('data-room')).toBe('busy-room');

    // The list follows people leaving.
    await third.context.close();
    await expect.poll(() => page.locator('[data-testid="online-room"][data-room="quiet-room"]').count(), { timeout: 20_000 }).toBe(0);

    await busy.click();
    await page.waitForURL(`${server.url}/chat/busy-room/`);
    await expect.poll(() => page.getByTestId('presence-count').innerText()).toBe('3');
  });

  it('answers a room deep link with the app itself; leaving by Back closes the room’s socket', async () => {
    const stays = await fresh('/chat/deep-link/');
    const open = await fresh('/chat/deep-link/');
    for (const page of [stays, open]) await waitConnected(page);
    await expect.poll(() => stays.page.getByTestId('presence-count').innerText()).toBe('2');

    await open.page.getByRole('link', { name: 'Back to the lobby' }).click();
    await open.page.waitForURL(`${server.url}/`);
    expect(await open.page.getByRole('heading', { name: 'Join a room' }).count()).toBe(1);
    // The room view's scope is gone, and its socket with it: the others see one fewer.
    await expect.poll(() => stays.page.getByTestId('presence-count').innerText()).toBe('1');
    expect(open.problems).toEqual([]);
  });
});
