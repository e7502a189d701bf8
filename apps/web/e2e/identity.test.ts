import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage } from '@roomcast/protocol';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  PASSWORD,
  PHONE,
  REPO,
  launchBrowser,
  messageTexts,
  openPage,
  postMessage,
  registerIn,
  sendFromPage,
  startRedis,
  startServer,
  waitConnected,
  type OpenPage,
  type ServerHandle,
  type TestRedis,
} from './helpers.js';

const DOC_SHOTS = join(REPO, 'docs/screenshots');
async function docScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(DOC_SHOTS, { recursive: true });
  await page.screenshot({ path: join(DOC_SHOTS, `${name}.png`) });
}

async function history(base: string, room: string): Promise<ChatMessage[]> {
  const response = await fetch(`${base}/rooms/${room}/messages?limit=200`);
  return ((await response.json()) as { messages: ChatMessage[] }).messages;
}

const connectionState = (page: Page) => page.getByTestId('connection').getAttribute('data-state');
const rowsIn = (page: Page, state: string) => page.locator(`[data-testid="message"][data-state="${state}"]`).count();

/** Sets this page's guest name through the picker in the room's header. */
async function pickGuestName(page: Page, name: string): Promise<void> {
  await page.getByTestId('pick-name').click();
  await page.getByTestId('guest-name-input').fill(name);
  await page.getByTestId('guest-name-save').click();
}

describe('identity in the browser', () => {
  let browser: Browser;
  const servers: ServerHandle[] = [];
  const pages: OpenPage[] = [];
  let redis: TestRedis | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.allSettled(pages.splice(0).map((open) => open.context.close()));
    await Promise.allSettled(servers.splice(0).map((server) => server.stop()));
    await redis?.stop();
    redis = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });
  const start = async (env: Record<string, string> = {}, port?: number) => {
    const server = await startServer(env, port);
    servers.push(server);
    return server;
  };
  const fresh = async () => {
    const open = await openPage(browser);
    pages.push(open);
    return open;
  };
  /** A page signed in as `username` (registered over HTTP), in `room`, connected, having said `text`. */
  const signedInSaying = async (server: ServerHandle, username: string, room: string, text: string) => {
    const open = await fresh();
    await registerIn(open.context, server.url, username);
    await open.page.goto(`${server.url}/chat/${room}/`);
    await waitConnected(open);
    await sendFromPage(open.page, text);
    await expect.poll(() => open.page.locator('[data-testid="message"][data-state="confirmed"][data-mine="true"]').count()).toBe(1);
    return open;
  };

  it('a restart of the embedded server under a signed-in page shows "signed out"; nothing is stored as null; unsent text survives', async () => {
    let server = await start();
    const dave = await signedInSaying(server, 'dave', 'restart-room', 'before the restart');
    const { page } = dave;

    const port = server.port;
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
    // Sent while the server is away: it waits. Typed but not sent: it stays in the box.
    await sendFromPage(page, 'sent while the server was away');
    await page.getByTestId('message-input').fill('a draft I have not sent');
    server = await start({}, port);

    await page.getByTestId('signed-out').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('signed-out').innerText()).toMatch(/You were signed out[\s\S]*dave/);
    expect(await page.getByTestId('me').innerText()).toBe('Signed out');
    expect(await connectionState(page)).toBe('signed-out');
    expect(await page.getByTestId('message-input').inputValue()).toBe('a draft I have not sent');
    expect(await rowsIn(page, 'pending')).toBe(1);
    expect(await rowsIn(page, 'failed')).toBe(0);
    await docScreenshot(page, 'signed-out');
    // Nothing was stored while the page was signed out: not as null, not as anyone.
    expect(await history(server.url, 'restart-room')).toEqual([]);

    // Signing in again (the embedded server forgot the account too: register) sends what waited, as dave.
    await page.getByTestId('sign-in-again').click();
    await page.getByTestId('mode-register').click();
    await page.getByLabel('Username').fill('dave');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByTestId('auth-submit').click();
    await waitConnected(dave);
    await expect.poll(() => rowsIn(page, 'pending')).toBe(0);
    expect(await page.getByTestId('signed-out').count()).toBe(0);
    const stored = await history(server.url, 'restart-room');
    expect(stored.map((message) => [message.user, message.message])).toEqual([['dave', 'sent while the server was away']]);
    expect(await page.getByTestId('message-input').inputValue()).toBe('a draft I have not sent');
    expect(dave.problems).toEqual([]);
  });

  it('logout in tab 1 closes tab 2’s socket within 2 s, on Redis across two nodes', async () => {
    redis = await startRedis();
    const a = await start({ REDIS_URL: redis.url });
    const b = await start({ REDIS_URL: redis.url });
    const tab1 = await fresh();
    await registerIn(tab1.context, a.url, 'frank');
    // Same browser (cookies are per host, not per port), tab 2 on the other node.
    const tab2page = await tab1.context.newPage();
    const tab2: OpenPage = { ...tab1, page: tab2page };
    await tab2page.goto(`${b.url}/chat/two-tabs/`);
    await waitConnected(tab2);
    expect(await tab2page.getByTestId('me').innerText()).toBe('Signed in as frank');

    await tab1.page.goto(a.url);
    await tab1.page.getByTestId('logout').waitFor();
    const loggedOut = tab1.page.waitForResponse((response) => response.url().endsWith('/auth/logout'));
    await tab1.page.getByTestId('logout').click();
    await loggedOut;
    const started = Date.now();
    await tab2page.getByTestId('signed-out').waitFor({ timeout: 5000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeLessThan(2000);
    expect(await connectionState(tab2page)).not.toBe('connected');
    // Its next message waits for a choice instead of going out as a guest.
    await sendFromPage(tab2page, 'after logout');
    expect(await rowsIn(tab2page, 'pending')).toBe(1);
    expect(await history(a.url, 'two-tabs')).toEqual([]);
  });

  it('"You" belongs to a user: after ops logs out and carol logs in, ops’s message is not carol’s; a login in one tab moves the other tab to that user', async () => {
    const server = await start();
    const tab1 = await signedInSaying(server, 'opsy', 'you-room', 'written by opsy');
    const { page } = tab1;

    // Tab 2 in the room as opsy; tab 1 logs out and registers carol from the lobby.
    const tab2page = await tab1.context.newPage();
    const tab2: OpenPage = { ...tab1, page: tab2page };
    await tab2page.goto(`${server.url}/chat/you-room/`);
    await waitConnected(tab2);
    await page.goto(server.url);
    await page.getByTestId('logout').click();
    await page.getByTestId('mode-register').click();
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByTestId('auth-submit').click();
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toBe('Signed in as carol');

    await page.goto(`${server.url}/chat/you-room/`);
    await waitConnected(tab1);
    await expect.poll(() => page.locator('[data-testid="message"][data-mine="true"]').count()).toBe(0);
    expect(await page.getByTestId('author').allInnerTexts()).toEqual(['opsy']);

    // Tab 2 heard the logout (signed out), then the login in tab 1: it goes on as carol, and says so.
    await expect.poll(() => tab2page.getByTestId('me').innerText()).toBe('Signed in as carol');
    await waitConnected(tab2);
    expect(await tab2page.getByTestId('signed-out').count()).toBe(0);
    await sendFromPage(tab2page, 'from tab 2');
    await expect.poll(async () => (await history(server.url, 'you-room')).map((message) => [message.user, message.message])).toEqual([
      ['opsy', 'written by opsy'],
      ['carol', 'from tab 2'],
    ]);
  });

  it('two named guests: presence, typing and messages show both; a guest cannot take a registered name; a service is marked', async () => {
    const server = await start();
    await (await fetch(`${server.url}/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'carol', password: PASSWORD }) })).text();
    const [rosa, tom, third] = [await fresh(), await fresh(), await fresh()];
    for (const [open, name] of [[rosa, 'rosa'], [tom, 'tom']] as const) {
      await open.page.goto(`${server.url}/chat/guests/`);
      await waitConnected(open);
      await pickGuestName(open.page, name);
      await waitConnected(open);
      await expect.poll(() => open.page.getByTestId('guest-label').innerText()).toBe(`${name} (guest)`);
    }
    for (const open of [rosa, tom]) {
      await expect
        .poll(() => open.page.locator('[data-testid="present-guest"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-guest'))))
        .toEqual(['rosa', 'tom']);
    }

    // A registered name is refused, in words, and the guest can pick another.
    await third.page.goto(`${server.url}/chat/guests/`);
    await waitConnected(third);
    await pickGuestName(third.page, 'Carol');
    await expect.poll(() => third.page.getByTestId('guest-name-error').innerText()).toMatch(/registered user/);
    await third.page.getByTestId('guest-name-clear').click();
    await waitConnected(third);

    // Both typing at once show as two.
    await rosa.page.getByTestId('message-input').pressSequentially('hel');
    await tom.page.getByTestId('message-input').pressSequentially('hel');
    await expect.poll(() => third.page.getByTestId('typing').innerText()).toMatch(/rosa \(guest\) and tom \(guest\) are typing|tom \(guest\) and rosa \(guest\) are typing/);

    await sendFromPage(rosa.page, 'hello from rosa');
    await expect.poll(() => tom.page.getByTestId('message').count()).toBe(1);
    await sendFromPage(tom.page, 'hello from tom');
    await postMessage(server.url, 'guests', 'deploy finished');
    for (const open of [rosa, tom]) await expect.poll(() => open.page.getByTestId('message').count()).toBe(3);
    const authors = await tom.page.getByTestId('author').allInnerTexts();
    expect(authors).toEqual(['rosa (guest)', 'You', 'service']);
    const service = tom.page.locator('[data-testid="message"][data-via="api"]');
    expect(await service.getByTestId('service-badge').innerText()).toMatch(/service/i);
    // Colours follow the name: rosa's avatar is not the anonymous grey.
    expect(await tom.page.locator('[data-testid="message"][data-guest="rosa"] .avatar').getAttribute('class')).toMatch(/avatar-\d/);
    await rosa.page.getByTestId('message-input').fill('');
    await docScreenshot(tom.page, 'named-guests');

    // On a phone the picker lives in the people panel.
    const phone = await openPage(browser, PHONE);
    pages.push(phone);
    await phone.page.goto(`${server.url}/chat/guests/`);
    await waitConnected(phone);
    await phone.page.getByTestId('people-toggle').click();
    await pickGuestName(phone.page, 'pia');
    await waitConnected(phone);
    await expect
      .poll(() => phone.page.locator('[data-testid="present-guest"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-guest'))))
      .toEqual(['pia', 'rosa', 'tom']);
    await docScreenshot(phone.page, 'named-guests-phone');
    for (const open of [rosa, tom, third, phone]) expect(open.problems).toEqual([]);
  });

  it('offline: the badge leaves Connected within 10 s and the pending message goes out once; 60 typed in a burst all arrive', async () => {
    const server = await start();
    const open = await fresh();
    const { page, context } = open;
    await page.goto(`${server.url}/chat/offline-room/`);
    await waitConnected(open);

    await context.setOffline(true);
    const started = Date.now();
    await expect.poll(() => connectionState(page), { timeout: 10_000 }).not.toBe('connected');
    expect(Date.now() - started).toBeLessThan(10_000);
    await sendFromPage(page, 'written offline');
    expect(await rowsIn(page, 'pending')).toBe(1);
    await context.setOffline(false);
    await waitConnected(open, 30_000);
    await expect.poll(() => rowsIn(page, 'pending')).toBe(0);
    expect((await history(server.url, 'offline-room')).filter((message) => message.message === 'written offline')).toHaveLength(1);

    // Over SOCKET_RATE (20 a second, bursts of 40): the client waits and resends; nothing shows as failed.
    const burst = Array.from({ length: 60 }, (_, n) => `burst ${n + 1}`);
    for (const text of burst) await sendFromPage(page, text);
    await expect.poll(() => rowsIn(page, 'confirmed'), { timeout: 30_000 }).toBe(61);
    expect(await rowsIn(page, 'failed')).toBe(0);
    expect((await messageTexts(page)).slice(1)).toEqual(burst);
    const stored = (await history(server.url, 'offline-room')).map((message) => message.message);
    expect(stored).toEqual(['written offline', ...burst]);
    expect(open.problems).toEqual([]);
  });
});
