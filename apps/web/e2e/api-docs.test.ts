import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, openPage, startServer, type OpenPage, type ServerHandle } from './helpers.js';

describe('the API page at /docs', () => {
  let server: ServerHandle;
  let browser: Browser;
  let open: OpenPage | undefined;

  beforeAll(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  afterEach(async () => {
    await open?.context.close();
    open = undefined;
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it('shows every operation under the server\'s Content-Security-Policy, and tries one', async () => {
    open = await openPage(browser);
    const { page, problems } = open;
    await page.goto(`${server.url}/docs`);
    const post = page.locator('#operations-rooms-post_rooms__room__messages');
    await post.waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThanOrEqual(10);
    expect(await page.locator('.opblock-summary-path').allInnerTexts()).toContain('/ws/chat/{room}');

    // Try GET /healthz from the page: its request goes out and the answer is shown.
    const healthz = page.locator('#operations-operations-get_healthz');
    await healthz.locator('.opblock-summary').click();
    await healthz.getByRole('button', { name: 'Try it out' }).click();
    await healthz.getByRole('button', { name: 'Execute' }).click();
    await expect.poll(() => healthz.locator('.live-responses-table tbody .response-col_status').first().innerText()).toBe('200');
    expect(await healthz.locator('.live-responses-table .microlight').first().innerText()).toContain('"status": "ok"');

    expect(problems).toEqual([]);
  });
});
