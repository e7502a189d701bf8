import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  REPO,
  WAIT_MS,
  launchBrowser,
  messageAction,
  messageRow,
  messageTexts,
  openPage,
  registerIn,
  sendFromPage,
  startServer,
  waitConnected,
  type OpenPage,
  type ServerHandle,
} from './helpers.js';

const DOC_SHOTS = join(REPO, 'docs/screenshots');
async function docScreenshot(page: Page, name: string): Promise<void> {
  mkdirSync(DOC_SHOTS, { recursive: true });
  await page.screenshot({ path: join(DOC_SHOTS, `${name}.png`) });
}

describe('rooms people own, in the browser', () => {
  let browser: Browser;
  let server: ServerHandle | undefined;
  const pages: OpenPage[] = [];

  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await Promise.allSettled(pages.splice(0).map((open) => open.context.close()));
    await server?.stop();
    server = undefined;
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A page signed in as `username` (registered on the way). */
  async function personAt(base: string, username: string): Promise<OpenPage> {
    const open = await openPage(browser);
    pages.push(open);
    await registerIn(open.context, base, username);
    return open;
  }

  it('creates a private room from the lobby, refuses an outsider, and lets them in by invite link', async () => {
    server = await startServer();
    const alice = await personAt(server.url, 'alice');
    const bob = await personAt(server.url, 'bob');

    await alice.page.goto(`${server.url}/`);
    await alice.page.getByTestId('create-name').fill('hideout');
    await alice.page.getByTestId('create-topic').fill('Plans for the weekend');
    await alice.page.getByTestId('create-private').check();
    await docScreenshot(alice.page, 'rooms-create-private');
    await alice.page.getByTestId('create-submit').click();
    await alice.page.waitForURL(/\/chat\/hideout\/$/);
    await waitConnected(alice);
    expect(await alice.page.getByTestId('room-visibility').innerText()).toBe('private');
    expect(await alice.page.getByTestId('room-topic').innerText()).toBe('Plans for the weekend');
    await sendFromPage(alice.page, 'members only in here');

    // An outsider is told why, and the page does not keep trying.
    await bob.page.goto(`${server.url}/chat/hideout/`);
    const refusal = bob.page.getByTestId('room-refusal');
    await refusal.waitFor();
    expect(await refusal.getAttribute('data-why')).toBe('forbidden');
    expect(await refusal.innerText()).toMatch(/private/i);
    expect(await messageTexts(bob.page)).toEqual([]);
    await docScreenshot(bob.page, 'rooms-private-refused');

    // The owner makes an invite link; opening it makes bob a member and opens the room.
    await alice.page.getByTestId('make-invite').click();
    const link = await alice.page.getByTestId('invite-link').inputValue();
    expect(link).toMatch(/\/chat\/hideout\/\?invite=/);
    await docScreenshot(alice.page, 'rooms-invite-link');
    await bob.page.goto(link);
    await waitConnected(bob);
    await expect.poll(() => messageTexts(bob.page), { timeout: WAIT_MS }).toEqual(['members only in here']);
    await expect.poll(() => bob.page.locator('[data-testid="member"][data-user="bob"]').count(), { timeout: WAIT_MS }).toBe(1);
    expect(bob.page.url()).not.toContain('invite=');
  });

  it('opens a direct conversation from a name in presence, the same room from either side', async () => {
    server = await startServer();
    const alice = await personAt(server.url, 'alice');
    const bob = await personAt(server.url, 'bob');
    for (const open of [alice, bob]) {
      await open.page.goto(`${server.url}/chat/commons/`);
      await waitConnected(open);
    }
    await alice.page.locator('[data-testid="present-user"][data-user="bob"]').waitFor();
    await bob.page.locator('[data-testid="present-user"][data-user="alice"]').waitFor();
    // Each asks from their own side while the other is still here.
    await Promise.all([
      alice.page.locator('[data-testid="message-person"][data-user="bob"]').click(),
      bob.page.locator('[data-testid="message-person"][data-user="alice"]').click(),
    ]);
    for (const open of [alice, bob]) {
      await open.page.waitForURL(/\/chat\/dm-[A-Za-z0-9_-]+\/$/);
      await waitConnected(open);
    }
    const room = new URL(alice.page.url()).pathname;
    expect(new URL(bob.page.url()).pathname).toBe(room);
    expect(await alice.page.getByTestId('room-visibility').innerText()).toBe('direct');
    await sendFromPage(alice.page, 'just between us');
    await expect.poll(() => messageTexts(bob.page), { timeout: WAIT_MS }).toEqual(['just between us']);
    await expect.poll(() => bob.page.getByTestId('member').count(), { timeout: WAIT_MS }).toBe(2);
    await docScreenshot(bob.page, 'rooms-direct-conversation');
  });

  it('bans someone from the people list: their page says so, and a reload is refused too', async () => {
    server = await startServer();
    const alice = await personAt(server.url, 'alice');
    const bob = await personAt(server.url, 'bob');
    const claimed = await alice.context.request.post(`${server.url}/rooms`, { data: { room: 'plaza', visibility: 'public', topic: 'Everyone welcome' } });
    expect(claimed.status()).toBe(201);
    for (const open of [alice, bob]) {
      await open.page.goto(`${server.url}/chat/plaza/`);
      await waitConnected(open);
    }
    // The owner deletes what bob posted: offered on his message, gone for both, no edit offered.
    await sendFromPage(bob.page, 'buy cheap watches here');
    await messageRow(alice.page, 'buy cheap watches here').waitFor();
    expect(await messageRow(alice.page, 'buy cheap watches here').getByTestId('action-edit').count()).toBe(0);
    await messageAction(alice.page, 'buy cheap watches here', 'delete');
    await alice.page.getByTestId('delete-yes').click();
    for (const open of [alice, bob]) {
      await expect.poll(() => open.page.locator('[data-testid="message"][data-deleted="true"]').count(), { timeout: WAIT_MS }).toBe(1);
      expect(await messageTexts(open.page)).not.toContain('buy cheap watches here');
    }

    const banButton = alice.page.locator('[data-testid="present-user"][data-user="bob"] [data-testid="ban-person"]');
    await banButton.waitFor();
    await docScreenshot(alice.page, 'rooms-moderation');
    await banButton.click();

    const refusal = bob.page.getByTestId('room-refusal');
    await refusal.waitFor();
    expect(await refusal.getAttribute('data-why')).toBe('banned');
    expect(await bob.page.getByTestId('connection').getAttribute('data-state')).toBe('offline');
    await docScreenshot(bob.page, 'rooms-banned');
    await bob.page.reload();
    await bob.page.getByTestId('room-refusal').waitFor();
    expect(await bob.page.getByTestId('room-refusal').getAttribute('data-why')).toBe('banned');
    await expect.poll(() => alice.page.locator('[data-testid="present-user"][data-user="bob"]').count(), { timeout: WAIT_MS }).toBe(0);

    // The directory lists the public room with its topic.
    await alice.page.goto(`${server.url}/`);
    await alice.page.getByTestId('directory-search').fill('pla');
    const listed = alice.page.locator('[data-testid="online-room"][data-room="plaza"]');
    await listed.waitFor();
    expect(await listed.innerText()).toMatch(/Everyone welcome/);
    await docScreenshot(alice.page, 'rooms-directory');
  });
});
