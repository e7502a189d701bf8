import { describe, expect, it } from 'vitest';
import { browserSuite, messageTexts, sendFromPage, waitConnected } from './helpers.js';

/** Two guests in one room, and what a message may contain. */
describe('the room, between two browsers', () => {
  const suite = browserSuite({ SOCKET_RATE: '0' });

  it('shows each guest the other’s messages with author and time, and both in the presence list', async () => {
    const alice = await suite.enter('two-guests');
    const bob = await suite.enter('two-guests');

    await expect.poll(() => alice.page.getByTestId('guest-count').innerText()).toBe('2 guests');
    await expect.poll(() => bob.page.getByTestId('presence-count').innerText()).toBe('2');

    await sendFromPage(alice.page, 'hello from alice');
    await sendFromPage(bob.page, 'hi alice, bob here');

    for (const { page } of [alice, bob]) {
      await expect.poll(() => messageTexts(page)).toEqual(['hello from alice', 'hi alice, bob here']);
      await expect.poll(() => page.locator('[data-testid="message"][data-state="confirmed"]').count()).toBe(2);
    }
    // Each page marks its own message, and names the other's author; every message has a time.
    const rowsAtAlice = alice.page.getByTestId('message');
    expect(await rowsAtAlice.nth(0).getAttribute('data-mine')).toBe('true');
    expect(await rowsAtAlice.nth(1).getAttribute('data-mine')).toBe('false');
    expect(await rowsAtAlice.nth(0).getByTestId('author').innerText()).toBe('You');
    expect(await rowsAtAlice.nth(1).getByTestId('author').innerText()).toBe('Guest');
    const rowsAtBob = bob.page.getByTestId('message');
    expect(await rowsAtBob.nth(0).getAttribute('data-mine')).toBe('false');
    expect(await rowsAtBob.nth(1).getAttribute('data-mine')).toBe('true');
    for (const row of await rowsAtBob.all()) {
      const time = row.getByTestId('time');
      expect(await time.innerText()).toMatch(/\d{1,2}[:.]\d{2}/);
      const stamp = Date.parse((await time.getAttribute('datetime')) ?? '');
      expect(Math.abs(stamp - Date.now())).toBeLessThan(60_000);
    }
    // The new message from the other is read out by the live region.
    expect(await bob.page.getByTestId('announcer').innerText()).toBe('Guest: hello from alice');
    expect(await bob.page.getByTestId('announcer').getAttribute('aria-live')).toBe('polite');

    await bob.context.close();
    await expect.poll(() => alice.page.getByTestId('presence-count').innerText()).toBe('1');
    expect(alice.problems).toEqual([]);
  });

  it('shows who is typing to the others', async () => {
    const alice = await suite.enter('typing-room');
    const bob = await suite.enter('typing-room');
    await alice.page.getByTestId('message-input').pressSequentially('hel');
    await expect.poll(() => bob.page.getByTestId('typing').innerText()).toBe('Guest is typing…');
    // Their message ends the notice.
    await alice.page.getByTestId('message-input').press('Enter');
    await expect.poll(() => messageTexts(bob.page)).toEqual(['hel']);
    expect(await bob.page.getByTestId('typing').innerText()).toBe('');
  });

  it('sends with Enter, breaks the line with Shift+Enter, and keeps the line break', async () => {
    const { page } = await suite.enter('multiline');
    const input = page.getByTestId('message-input');
    await input.pressSequentially('first line');
    await input.press('Shift+Enter');
    await input.pressSequentially('second line');
    expect(await messageTexts(page)).toEqual([]);
    await input.press('Enter');
    await expect.poll(() => messageTexts(page)).toEqual(['first line\nsecond line']);
    expect(await input.inputValue()).toBe('');
    await expect.poll(() => page.locator('[data-testid="message"]').first().getAttribute('data-state')).toBe('confirmed');
  });

  it('renders markup as literal text and runs none of it; links open safely', async () => {
    const alice = await suite.enter('hostile');
    const bob = await suite.enter('hostile');
    const attack = '<img src=x onerror=alert(1)>';
    const scriptTag = '<script>window.__pwned = 1</script>';
    await sendFromPage(alice.page, attack);
    await sendFromPage(alice.page, scriptTag);
    await sendFromPage(alice.page, 'docs at https://example.com/guide. and javascript:alert(2)');

    for (const { page, problems } of [alice, bob]) {
      await expect.poll(() => messageTexts(page)).toEqual([attack, scriptTag, 'docs at https://example.com/guide. and javascript:alert(2)']);
      const log = page.getByTestId('log');
      expect(await log.locator('img, script').count()).toBe(0);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      const links = log.locator('a');
      expect(await links.count()).toBe(1);
      expect(await links.getAttribute('href')).toBe('https://example.com/guide');
      expect(await links.getAttribute('rel')).toContain('noopener');
      expect(await links.getAttribute('target')).toBe('_blank');
      // A dialog would have been recorded (and dismissed): none may have opened.
      expect(problems).toEqual([]);
    }
  });

  it('is usable by keyboard and screen reader: names, focus order, live regions', async () => {
    const { page } = await suite.enter('keyboard');
    // Every control has a name a screen reader can say.
    expect(await page.getByLabel('Message #keyboard').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Send' }).count()).toBe(1);
    expect(await page.getByRole('region', { name: 'Messages in #keyboard' }).count()).toBe(1);
    expect(await page.getByRole('complementary', { name: 'People in this room' }).count()).toBe(1);
    expect(await page.getByTestId('connection').getAttribute('role')).toBe('status');
    expect(await page.getByTestId('announcer').getAttribute('aria-live')).toBe('polite');

    // Focus order follows the page: back to the lobby, then the log (scrollable by keys), then the input.
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        return el?.getAttribute('aria-label') ?? el?.dataset.testid ?? el?.textContent?.trim() ?? '';
      });
    await page.getByTestId('room-name').click();
    await page.keyboard.press('Shift+Tab');
    expect(await focused()).toBe('Back to the lobby');
    const order: string[] = [];
    for (let step = 0; step < 5; step += 1) {
      await page.keyboard.press('Tab');
      order.push(await focused());
    }
    const at = (name: string) => order.indexOf(name);
    expect(at('Messages in #keyboard'), order.join(' | ')).toBeGreaterThanOrEqual(0);
    expect(at('message-input'), order.join(' | ')).toBeGreaterThan(at('Messages in #keyboard'));

    // With text typed, Send is the next stop after the input, and Enter on it sends.
    await page.getByTestId('message-input').fill('sent with the keyboard');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('send');
    await page.keyboard.press('Enter');
    await expect.poll(() => messageTexts(page)).toEqual(['sent with the keyboard']);
  });

  it('serves the SPA shell with no inline script or style, ready for a strict CSP', async () => {
    const response = await fetch(`${suite.server.url}/chat/any-room/`);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<div id="app">');
    const scripts = [...html.matchAll(/<script\b[^>]*>/g)].map((match) => match[0]);
    expect(scripts.length).toBeGreaterThan(0);
    for (const tag of scripts) expect(tag).toMatch(/\bsrc="\/assets\/[^"]+\.js"/);
    expect(html).not.toMatch(/<script\b[^>]*>[^<]+<\/script>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).not.toMatch(/<style\b/);
  });
});

describe('sends over the socket rate', () => {
  // One message a second, bursts of two: the third quick send is refused with rate_limited.
  const suite = browserSuite({ SOCKET_RATE: '1' });

  it('show pending, wait as the server asks (retryAfterMs) and go out by themselves, in order; none fails', async () => {
    const current = await suite.fresh();
    const { page } = current;
    // Every chat frame the page sends, to check that a retry reuses its send's nonce.
    const sentFrames: Array<{ message?: string; nonce?: string }> = [];
    page.on('websocket', (socket) => {
      socket.on('framesent', (event) => {
        if (typeof event.payload === 'string') sentFrames.push(JSON.parse(event.payload) as { message?: string; nonce?: string });
      });
    });
    await page.goto(`${suite.server.url}/chat/slow-room/`);
    await waitConnected(current);

    for (const text of ['one', 'two', 'three', 'four']) await sendFromPage(page, text);
    const rows = page.getByTestId('message');
    const failed = page.locator('[data-testid="message"][data-state="failed"]');
    const confirmed = page.locator('[data-testid="message"][data-state="confirmed"]');
    await expect.poll(() => rows.count()).toBe(4);
    // Over the rate, some wait: still pending, not failed.
    expect(await page.locator('[data-testid="message"][data-state="pending"]').count()).toBeGreaterThan(0);
    await expect.poll(() => confirmed.count(), { timeout: 20_000 }).toBe(4);
    expect(await failed.count()).toBe(0);
    expect(await messageTexts(page)).toEqual(['one', 'two', 'three', 'four']);
    // A send that waited and went out again is the same send: one nonce per text, however often it went out.
    const chats = sentFrames.filter((frame) => frame.message !== undefined);
    for (const text of ['one', 'two', 'three', 'four']) {
      expect(new Set(chats.filter((frame) => frame.message === text).map((frame) => frame.nonce)).size, text).toBe(1);
    }
    expect(current.problems).toEqual([]);
  });
});
