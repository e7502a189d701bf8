import { statSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API_KEY,
  DESKTOP,
  PHONE,
  launchBrowser,
  openPage,
  postMessage,
  registerIn,
  screenshot,
  sendFromPage,
  startServer,
  waitConnected,
  type OpenPage,
  type ServerHandle,
} from './helpers.js';

/** Named API keys post as these names: a conversation with several voices to look at. */
const VOICES = { alex: 'key-for-alex-0123456789', priya: 'key-for-priya-0123456789' } as const;
const CONVERSATION: Array<[keyof typeof VOICES, string]> = [
  ['alex', 'Morning all! Standup notes are in the doc: https://example.com/notes/standup'],
  ['priya', 'Thanks. I moved the release to Thursday so QA has a full day.'],
  ['alex', 'Sounds good. Can someone look at the flaky upload test?\nIt fails about one run in twenty.'],
  ['priya', 'On it after lunch.'],
];

/** Nothing may stick out sideways: at phone width a horizontal scrollbar is a broken layout. */
const overflowsSideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);

describe('how it looks, at desktop and phone width', () => {
  let server: ServerHandle;
  let browser: Browser;
  let pages: OpenPage[] = [];

  beforeAll(async () => {
    const keys = [API_KEY, ...Object.entries(VOICES).map(([name, key]) => `${name}:${key}`)].join(',');
    server = await startServer({ SOCKET_RATE: '0', API_KEYS: keys });
    for (const room of ['design-review', 'team-standup']) {
      for (const [voice, line] of CONVERSATION) await postMessage(server.url, room, line, VOICES[voice]);
    }
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

  /** A page of a fresh user: logged in as `username` when given, a guest otherwise. */
  const visit = async (path: string, viewport: typeof DESKTOP, username?: string): Promise<OpenPage> => {
    const open = await openPage(browser, viewport);
    pages.push(open);
    if (username) await registerIn(open.context, server.url, username);
    await open.page.goto(`${server.url}${path}`);
    return open;
  };

  // Accounts are unique per server: each width has its own two people.
  const scenes = [
    { width: 'desktop', viewport: DESKTOP, room: 'design-review', me: 'maya', typist: 'sam' },
    { width: 'phone', viewport: PHONE, room: 'team-standup', me: 'noor', typist: 'leo' },
  ] as const;
  for (const { width, viewport, room, me, typist } of scenes) {
    it(`room at ${width} width`, async () => {
      // Others are in the room, one of them typing, so presence and typing have something to show.
      const sam = await visit(`/chat/${room}/`, viewport, typist);
      const guest = await visit(`/chat/${room}/`, viewport);
      const mine = await visit(`/chat/${room}/`, viewport, me);
      const { page, problems } = mine;
      for (const other of [sam, guest, mine]) await waitConnected(other);
      await sendFromPage(page, 'Great, thanks! I’ll review the PR after that.');
      await expect.poll(() => page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(CONVERSATION.length + 1);
      await sam.page.getByTestId('message-input').pressSequentially('Will do');
      await expect.poll(() => page.getByTestId('typing').innerText()).toBe(`${typist} is typing…`);
      await expect.poll(() => page.getByTestId('presence-count').innerText()).toBe('3');

      const path = await screenshot(page, `room-${width}`);
      expect(statSync(path).size).toBeGreaterThan(10_000);
      expect(await overflowsSideways(page)).toBe(false);
      // The input, the send button and the connection state are on screen, not pushed off it.
      for (const id of ['message-input', 'connection', 'send']) {
        const box = await page.getByTestId(id).boundingBox();
        expect(box, id).not.toBeNull();
        expect(box!.y + box!.height, id).toBeLessThanOrEqual(viewport.height);
        expect(box!.x + box!.width, id).toBeLessThanOrEqual(viewport.width);
      }
      if (width === 'phone') {
        // The people list folds away on a phone, behind a button that says how many are here.
        await page.getByTestId('people-toggle').click();
        await expect.poll(() => page.getByTestId('presence').isVisible()).toBe(true);
        await screenshot(page, `room-phone-people`);
        const present = await page.locator('[data-testid="present-user"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-user')));
        expect(present).toEqual([typist, me].sort());
      }
      expect(problems).toEqual([]);
    });

    it(`lobby at ${width} width`, async () => {
      const inRoom = await visit(`/chat/${room}/`, viewport);
      await waitConnected(inRoom);

      const { page, problems } = await visit('/', viewport);
      const listed = page.locator(`[data-testid="online-room"][data-room="${room}"]`);
      await expect.poll(() => listed.count()).toBe(1);
      expect(await listed.innerText()).toMatch(/1 online/);
      const path = await screenshot(page, `lobby-${width}`);
      expect(statSync(path).size).toBeGreaterThan(10_000);
      expect(await overflowsSideways(page)).toBe(false);
      expect(problems).toEqual([]);
    });
  }
});
