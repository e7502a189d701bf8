import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { HOSTILE_MARKDOWN } from '../src/lib/hostile-markdown.js';
import { browserSuite, messageAction, messageRow, postMessage, sendFromPage, waitConnected } from './helpers.js';

/** What the messages' text holds that could run or mislead: anything here is a failure. */
function dangers(page: Page): Promise<string[]> {
  return page.getByTestId('log').evaluate((log) => {
    const found: string[] = [];
    // Elements: the message text may hold only the renderer's (the app's own icons are elsewhere).
    for (const element of log.querySelectorAll('[data-testid="text"] *')) {
      const name = element.tagName.toLowerCase();
      if (!['div', 'p', 'br', 'strong', 'em', 's', 'code', 'pre', 'a', 'span'].includes(name)) found.push(`<${name}>`);
    }
    // Attributes and links: nowhere in the log.
    for (const element of log.querySelectorAll('*')) {
      const name = element.tagName.toLowerCase();
      for (const attribute of element.getAttributeNames()) {
        if (/^on/i.test(attribute)) found.push(`${name}[${attribute}]`);
        if (attribute === 'style') found.push(`${name}[style]`);
      }
      const href = element.getAttribute('href');
      if (href !== null && !/^(?:https?:\/\/|mailto:)/i.test(href)) found.push(`href ${href}`);
      if (name === 'a' && (element.getAttribute('target') !== '_blank' || !/noopener/.test(element.getAttribute('rel') ?? ''))) found.push('a without target/rel');
    }
    return found;
  });
}

/**
 * The hostile markdown corpus (src/lib/hostile-markdown.ts), posted through the socket by the
 * SPA and through HTTP by a service, as Chromium shows it to the sender and to another reader:
 * text or the allowed markup only, and nothing of it runs.
 */
describe('hostile markdown in Chromium', () => {
  const suite = browserSuite({ SOCKET_RATE: '0' });

  it('shows the corpus sent over the socket and HTTP as text or safe markup, and runs none of it', async () => {
    const alice = await suite.enter('hostile-markdown', 'alice');
    const bob = await suite.enter('hostile-markdown');
    for (const text of HOSTILE_MARKDOWN) await sendFromPage(alice.page, text);
    for (const text of HOSTILE_MARKDOWN) await postMessage(suite.server.url, 'hostile-markdown', text);
    // The new paths for text: an edit to hostile text, and a reply quoting a hostile message.
    await sendFromPage(alice.page, 'to be edited');
    await messageAction(alice.page, 'to be edited', 'edit');
    await alice.page.getByTestId('edit-input').fill('<img src=x onerror=window.__pwned=1> [x](javascript:window.__pwned=1) edited');
    await alice.page.getByTestId('edit-input').press('Enter');
    await expect.poll(() => messageRow(bob.page, 'edited').getByTestId('edited').count()).toBe(1);
    await messageAction(alice.page, '<svg onload=window.__pwned=1>', 'reply');
    await sendFromPage(alice.page, 'quoting it');
    await expect.poll(() => messageRow(bob.page, 'quoting it').getByTestId('reply-quote').innerText()).toContain('<svg onload=window.__pwned=1>');
    await sendFromPage(alice.page, '**bold**, _italic_, `code` and [a link](https://example.com/docs)\n```\nconst x = 1 < 2;\n```');

    const total = HOSTILE_MARKDOWN.length * 2 + 3;
    for (const { page, problems } of [alice, bob]) {
      await expect.poll(() => page.locator('[data-testid="message"][data-state="confirmed"]').count(), { timeout: 30_000 }).toBe(total);
      expect(await dangers(page)).toEqual([]);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      // A dialog or an uncaught error would have been recorded.
      expect(problems).toEqual([]);
      // The markup people may use is there, in the last message.
      const last = page.locator('[data-testid="message"]').last().getByTestId('text');
      expect(await last.locator('strong').innerText()).toBe('bold');
      expect(await last.locator('em').innerText()).toBe('italic');
      expect(await last.locator('p code').innerText()).toBe('code');
      expect(await last.locator('pre code').innerText()).toBe('const x = 1 < 2;');
      expect(await last.locator('a').getAttribute('href')).toBe('https://example.com/docs');
      // Tags typed as text are shown as text.
      const texts = await page.locator('[data-testid="message"] [data-testid="text"]').allInnerTexts();
      expect(texts[0]).toBe('<script>window.__pwned = 1</script>');
      expect(texts[HOSTILE_MARKDOWN.length]).toBe('<script>window.__pwned = 1</script>');
    }

    // The same from history (GET), after a reload: the newest page, then the older one.
    await alice.page.reload();
    await waitConnected(alice);
    await expect.poll(() => alice.page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBeGreaterThanOrEqual(Math.min(total, 50));
    await alice.page.getByTestId('log').evaluate((log) => log.scrollTo(0, 0));
    await expect.poll(() => alice.page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(total);
    expect(await dangers(alice.page)).toEqual([]);
    expect(await alice.page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  });
});
