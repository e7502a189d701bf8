import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { PASSWORD, browserSuite, messageTexts, registerIn, sendFromPage, waitConnected } from './helpers.js';

/** Fills the lobby's account form and submits it. */
async function submitAccountForm(page: Page, mode: 'login' | 'register', username: string, password: string): Promise<void> {
  await page.getByTestId(mode === 'login' ? 'mode-login' : 'mode-register').click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByTestId('auth-submit').click();
}

describe('accounts, through the UI', () => {
  const suite = browserSuite({ SOCKET_RATE: '0' });

  it('registers, logs out, logs in, chats as that user, and logs out', async () => {
    const account = await suite.fresh();
    const { page, problems } = account;
    const watcher = await suite.fresh();
    await watcher.page.goto(`${suite.server.url}/chat/members/`);
    await waitConnected(watcher);

    await page.goto(suite.server.url);
    await submitAccountForm(page, 'register', 'Ada_L', PASSWORD);
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toBe('Signed in as Ada_L');

    // The name is taken now: a second registration says so, in words.
    await page.getByTestId('logout').click();
    await expect.poll(() => page.getByTestId('auth-submit').isVisible()).toBe(true);
    await submitAccountForm(page, 'register', 'Ada_L', PASSWORD);
    await expect.poll(() => page.getByTestId('auth-error').innerText()).toMatch(/taken/i);

    // A wrong password is refused; the right one logs in.
    await submitAccountForm(page, 'login', 'Ada_L', 'not the password');
    await expect.poll(() => page.getByTestId('auth-error').innerText()).toMatch(/wrong username or password/i);
    await submitAccountForm(page, 'login', 'Ada_L', PASSWORD);
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toBe('Signed in as Ada_L');

    // Into a room through the picker; the message carries the name, for us and for the others.
    await page.getByLabel('Room name').fill('members');
    await page.getByTestId('join').click();
    await page.waitForURL(/\/chat\/members\/$/);
    await waitConnected(account);
    expect(await page.getByTestId('me').innerText()).toContain('Ada_L');
    await expect.poll(() => page.locator('[data-testid="present-user"][data-user="Ada_L"]').count()).toBe(1);
    await expect.poll(() => watcher.page.locator('[data-testid="present-user"][data-user="Ada_L"]').count()).toBe(1);

    await sendFromPage(page, 'signed and sent');
    await expect.poll(() => messageTexts(watcher.page)).toEqual(['signed and sent']);
    const seen = watcher.page.getByTestId('message').first();
    expect(await seen.getByTestId('author').innerText()).toBe('Ada_L');
    expect(await seen.getAttribute('data-user')).toBe('Ada_L');
    const own = page.getByTestId('message').first();
    await expect.poll(() => own.getAttribute('data-state')).toBe('confirmed');
    expect(await own.getAttribute('data-mine')).toBe('true');
    expect(await own.getAttribute('data-user')).toBe('Ada_L');

    // Back to the lobby and out: the page is a guest again, and the server agrees.
    await page.getByRole('link', { name: 'Back to the lobby' }).click();
    await page.getByTestId('logout').click();
    await expect.poll(() => page.getByTestId('auth-submit').isVisible()).toBe(true);
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);
    const me = await page.request.get(`${suite.server.url}/auth/me`);
    expect(me.status()).toBe(401);
    await page.reload();
    await expect.poll(() => page.getByTestId('auth-submit').isVisible()).toBe(true);
    expect(problems).toEqual([]);
  });

  it('checks the username and password rules before asking the server', async () => {
    const { page } = await suite.fresh();
    await page.goto(suite.server.url);
    await submitAccountForm(page, 'register', 'a b', 'short');
    expect(await page.getByLabel('Username').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    expect(await page.getByText('Usernames are 3 to 32').count()).toBe(1);
    expect(await page.getByText('Passwords are 8 to 200 characters.').count()).toBe(1);
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);
  });

  it('shows two logged-in users each other’s messages by name, and both in the presence list', async () => {
    const grace = await suite.fresh();
    const linus = await suite.fresh();
    await registerIn(grace.context, suite.server.url, 'grace');
    await registerIn(linus.context, suite.server.url, 'linus');
    for (const open of [grace, linus]) {
      await open.page.goto(`${suite.server.url}/chat/pair/`);
      await waitConnected(open);
    }
    for (const { page } of [grace, linus]) {
      await expect.poll(() => page.locator('[data-testid="present-user"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-user')))).toEqual([
        'grace',
        'linus',
      ]);
    }
    await sendFromPage(grace.page, 'hello linus');
    await expect.poll(() => messageTexts(linus.page)).toEqual(['hello linus']);
    await sendFromPage(linus.page, 'hello grace');
    for (const { page } of [grace, linus]) await expect.poll(() => messageTexts(page)).toEqual(['hello linus', 'hello grace']);

    const authors = (page: Page) => page.locator('[data-testid="message"]').evaluateAll((rows) => rows.map((row) => [row.getAttribute('data-user'), row.getAttribute('data-mine')]));
    expect(await authors(grace.page)).toEqual([['grace', 'true'], ['linus', 'false']]);
    expect(await authors(linus.page)).toEqual([['grace', 'false'], ['linus', 'true']]);
    expect(await linus.page.getByTestId('message').first().getByTestId('author').innerText()).toBe('grace');
    expect(await grace.page.getByTestId('message').nth(1).getByTestId('author').innerText()).toBe('linus');
  });
});

describe('a server that requires login', () => {
  const suite = browserSuite({ REQUIRE_LOGIN: 'true' });

  it('tells a guest to log in instead of retrying, and lets them in once they have', async () => {
    const open = await suite.fresh();
    const { page } = open;
    await page.goto(`${suite.server.url}/chat/members-only/`);
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/log in/i);
    expect(await page.getByTestId('connection').getAttribute('data-state')).toBe('offline');

    await page.getByRole('alert').getByRole('link', { name: 'Log in' }).click();
    await page.waitForURL(`${suite.server.url}/`);
    await submitAccountForm(page, 'register', 'member_1', PASSWORD);
    await expect.poll(() => page.getByTestId('signed-in-as').innerText()).toBe('Signed in as member_1');
    await page.goto(`${suite.server.url}/chat/members-only/`);
    await waitConnected(open);
    await sendFromPage(page, 'inside now');
    await expect.poll(() => page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(1);
    expect(open.problems).toEqual([]);
  });
});
