import { spawnSync } from 'node:child_process';
import { assertDjangoInstalled, manage, startDaphne, type Daphne, type DjangoEnv } from '@roomcast/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventually,
  launchBrowser,
  messageAction,
  messageRow,
  openPage,
  registerIn,
  sendFromPage,
  startRedis,
  startServer,
  waitConnected,
  type OpenPage,
  type ServerHandle,
  type TestRedis,
} from './helpers.js';

/** The Django tutorial's room page, unchanged: type in its input, press Enter. */
async function sendFromTutorial(page: Page, text: string): Promise<void> {
  await page.locator('#chat-message-input').fill(text);
  await page.locator('#chat-message-input').press('Enter');
}

const chatLog = (page: Page): Promise<string> => page.locator('#chat-log').inputValue();

/**
 * The seed's room page (the Channels tutorial's room.html, rendered by Django) in Chromium,
 * twice: served from Roomcast's address, so that its socket is Roomcast's, and served by daphne,
 * beside it in the same room through the channel layer. Both textareas show chat text only, each
 * message once, while a Roomcast SPA in the room makes presence and typing frames.
 */
describe("the Django tutorial's room page beside Roomcast", () => {
  let redis: TestRedis;
  let env: DjangoEnv;
  let daphne: Daphne;
  let server: ServerHandle;
  let browser: Browser;
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    assertDjangoInstalled();
    redis = await startRedis();
    env = { DJANGO_CHANNEL_LAYER: 'core', DJANGO_REDIS_URL: redis.url };
    [daphne, server, browser] = await Promise.all([
      startDaphne(env),
      startServer({ SOCKET_RATE: '0', ...env } as unknown as Record<string, string>),
      // The page is answered by the test (route.fulfill), so Chromium does not know it comes from
      // 127.0.0.1 and would block its socket to a local address.
      launchBrowser(['--disable-features=LocalNetworkAccessChecks']),
    ]);
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((open) => open.context.close()));
    await browser?.close();
    await Promise.allSettled([server?.stop(), daphne?.stop()]);
    await redis?.stop();
  });

  const open = async (): Promise<OpenPage> => {
    const opened = await openPage(browser);
    pages.push(opened);
    return opened;
  };

  it('shows only chat text, each message once, on Roomcast and on daphne', async () => {
    // The room page as Django renders it, answered at Roomcast's address.
    const html = await (await fetch(`${daphne.url}/chat/lobby/`)).text();
    expect(html).toContain("document.querySelector('#chat-log').value += (data.message + '\\n');");
    const onRoomcast = await open();
    await onRoomcast.page.route(`${server.url}/tutorial/lobby/`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await onRoomcast.page.goto(`${server.url}/tutorial/lobby/`);
    const onDaphne = await open();
    await onDaphne.page.goto(`${daphne.url}/chat/lobby/`);
    const spa = await open();
    await spa.page.goto(`${server.url}/chat/lobby/`);
    await waitConnected(spa);
    // Daphne's page and the Roomcast cluster both in chat_lobby.
    const members = (): number => Number(spawnSync('redis-cli', ['-p', String(redis.port), 'ZCARD', 'asgi:group:chat_lobby'], { encoding: 'utf8' }).stdout.trim());
    await eventually(() => members() === 2, 15_000, 'two members in chat_lobby');

    const expected: string[] = [];
    const say = async (text: string, send: () => Promise<unknown>): Promise<void> => {
      expected.push(text);
      await send();
      await expect.poll(() => chatLog(onRoomcast.page)).toBe(expected.map((line) => `${line}\n`).join(''));
    };
    // Presence: another SPA tab comes and goes; typing: the SPA's input.
    const visitor = await open();
    await visitor.page.goto(`${server.url}/chat/lobby/`);
    await waitConnected(visitor);
    await spa.page.getByTestId('message-input').pressSequentially('typing…', { delay: 20 });
    await say('from the SPA', () => sendFromPage(spa.page, 'from the SPA'));
    await visitor.context.close();
    await say('from the tutorial page on Roomcast', () => sendFromTutorial(onRoomcast.page, 'from the tutorial page on Roomcast'));
    await say('from the tutorial page on daphne', () => sendFromTutorial(onDaphne.page, 'from the tutorial page on daphne'));
    await say('from manage.py', () => manage(env, ['send_message', 'lobby', 'from manage.py']));

    await expect.poll(() => chatLog(onDaphne.page)).toBe(expected.map((line) => `${line}\n`).join(''));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const page of [onRoomcast.page, onDaphne.page]) {
      const log = await chatLog(page);
      expect(log).not.toContain('undefined');
      expect(log.split('\n').filter(Boolean)).toEqual(expected);
    }
    expect(onRoomcast.problems).toEqual([]);
  });

  it('still shows only message text while a Roomcast user edits, reacts to and deletes messages', async () => {
    const html = await (await fetch(`${daphne.url}/chat/changes/`)).text();
    const onRoomcast = await open();
    await onRoomcast.page.route(`${server.url}/tutorial/changes/`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await onRoomcast.page.goto(`${server.url}/tutorial/changes/`);
    const onDaphne = await open();
    await onDaphne.page.goto(`${daphne.url}/chat/changes/`);
    const spa = await open();
    await registerIn(spa.context, server.url, 'editor');
    await spa.page.goto(`${server.url}/chat/changes/`);
    await waitConnected(spa);
    // Both tutorial pages are in the room before anything is said.
    await sendFromTutorial(onDaphne.page, 'ready');
    await expect.poll(() => chatLog(onRoomcast.page)).toBe('ready\n');

    await sendFromPage(spa.page, 'first draft');
    await expect.poll(() => spa.page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(2);
    await messageAction(spa.page, 'first draft', 'edit');
    await spa.page.getByTestId('edit-input').fill('second draft');
    await spa.page.getByTestId('edit-input').press('Enter');
    await expect.poll(() => messageRow(spa.page, 'second draft').getByTestId('edited').count()).toBe(1);
    await messageAction(spa.page, 'ready', 'react');
    await spa.page.getByTestId('reaction-picker').locator('[data-emoji="👍"]').click();
    await expect.poll(() => messageRow(spa.page, 'ready').getByTestId('reaction').count()).toBe(1);
    await messageAction(spa.page, 'second draft', 'delete');
    await spa.page.getByTestId('delete-yes').click();
    await expect.poll(() => spa.page.getByTestId('tombstone').count()).toBe(1);
    // A last message marks the end: everything before it has reached the pages.
    await sendFromPage(spa.page, 'done');

    for (const page of [onRoomcast.page, onDaphne.page]) {
      await expect.poll(() => chatLog(page)).toBe('ready\nfirst draft\ndone\n');
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    for (const page of [onRoomcast.page, onDaphne.page]) expect(await chatLog(page)).toBe('ready\nfirst draft\ndone\n');
    expect(onRoomcast.problems).toEqual([]);
  });

  it("answers /chat/, where the tutorial's index page was, with the lobby", async () => {
    const { page } = await open();
    const response = await page.goto(`${server.url}/chat/`);
    expect(response?.status()).toBe(200);
    await page.getByLabel('Room name').fill('lobby');
    await page.getByLabel('Room name').press('Enter');
    await page.waitForURL(`${server.url}/chat/lobby/`);
  });
});
