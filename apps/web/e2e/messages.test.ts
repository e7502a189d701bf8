import { statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  DOCS_SCREENSHOTS,
  PHONE,
  browserSuite,
  messageAction,
  messageRow,
  messageTexts,
  postMessage,
  screenshot,
  sendFromPage,
  waitConnected,
} from './helpers.js';

/** Each emoji under a message with its count, as the page shows them. */
const reactionsOf = (page: Page, text: string) =>
  messageRow(page, text)
    .getByTestId('reaction')
    .evaluateAll((buttons) => buttons.map((button) => `${button.getAttribute('data-emoji')}${button.querySelector('[data-testid="reaction-count"]')?.textContent ?? ''}${button.getAttribute('data-mine') === 'true' ? '*' : ''}`));

/**
 * Two people (two contexts, two accounts) in one room: edit, delete, reply, react and mention,
 * each seen by the other at once and again after both reload.
 */
describe('edit, delete, reply, react and mention between two browsers', () => {
  const suite = browserSuite({ SOCKET_RATE: '0' });

  it('shows every change to the other person at once and after a reload', async () => {
    const maya = await suite.enter('planning', 'maya');
    const sam = await suite.enter('planning', 'sam');
    await expect.poll(() => maya.page.locator('[data-testid="present-user"][data-user="sam"]').count()).toBe(1);

    // A mention: highlighted for both, standing out for the one mentioned.
    await sendFromPage(maya.page, 'Morning @sam, the **release notes** are in `docs/release.md`');
    const mention = (page: Page) => messageRow(page, 'the release notes');
    await expect.poll(() => mention(sam.page).getAttribute('data-mentions-me')).toBe('true');
    expect(await mention(sam.page).locator('.mention.mention-me').innerText()).toBe('@sam');
    await expect.poll(() => mention(maya.page).locator('.mention').count()).toBe(1);
    expect(await mention(maya.page).locator('.mention-me').count()).toBe(0);
    expect(await mention(maya.page).getAttribute('data-mentions-me')).toBe('false');

    // A reply, quoting the first line.
    await messageAction(sam.page, 'the release notes', 'reply');
    expect(await sam.page.getByTestId('replying-to').innerText()).toContain('Replying to maya: Morning @sam');
    await sendFromPage(sam.page, 'Thanks, reading them now');
    expect(await sam.page.getByTestId('replying-to').count()).toBe(0);
    for (const page of [maya.page, sam.page]) {
      await expect.poll(() => messageRow(page, 'reading them now').getByTestId('reply-quote').innerText()).toMatch(/Morning @sam, the release notes are in docs\/release.md/);
    }
    expect(await messageRow(maya.page, 'reading them now').getByTestId('reply-quote').innerText()).toMatch(/^↩\s*You:/);

    // Reactions: set by one, counted for both, added to by the other, then taken back.
    await messageAction(sam.page, 'the release notes', 'react');
    await sam.page.getByTestId('reaction-picker').locator('[data-emoji="🎉"]').click();
    await expect.poll(() => reactionsOf(sam.page, 'the release notes')).toEqual(['🎉1*']);
    await expect.poll(() => reactionsOf(maya.page, 'the release notes')).toEqual(['🎉1']);
    await messageRow(maya.page, 'the release notes').locator('[data-testid="reaction"][data-emoji="🎉"]').click();
    await expect.poll(() => reactionsOf(sam.page, 'the release notes')).toEqual(['🎉2*']);
    await expect.poll(() => reactionsOf(maya.page, 'the release notes')).toEqual(['🎉2*']);
    expect(await messageRow(sam.page, 'the release notes').getByTestId('reaction').getAttribute('title')).toBe('sam, maya reacted with 🎉');
    await messageAction(maya.page, 'reading them now', 'react');
    await maya.page.getByTestId('reaction-picker').locator('[data-emoji="👍"]').click();
    await messageAction(maya.page, 'reading them now', 'react');
    await maya.page.getByTestId('reaction-picker').locator('[data-emoji="👀"]').click();
    await expect.poll(() => reactionsOf(sam.page, 'reading them now')).toEqual(['👍1', '👀1']);
    await messageRow(maya.page, 'reading them now').locator('[data-testid="reaction"][data-emoji="👀"]').click();
    await expect.poll(() => reactionsOf(sam.page, 'reading them now')).toEqual(['👍1']);

    // An edit: Esc cancels, Enter saves; both see the new text marked "(edited)".
    await messageAction(maya.page, 'the release notes', 'edit');
    await maya.page.getByTestId('edit-input').fill('not this');
    await maya.page.getByTestId('edit-input').press('Escape');
    expect(await maya.page.getByTestId('editor').count()).toBe(0);
    await messageAction(maya.page, 'the release notes', 'edit');
    await maya.page.getByTestId('edit-input').fill('Morning @sam, the **final release notes** are in `docs/release.md`');
    await maya.page.getByTestId('edit-input').press('Enter');
    for (const page of [maya.page, sam.page]) {
      await expect.poll(() => messageRow(page, 'final release notes').getByTestId('edited').count()).toBe(1);
      expect(await messageRow(page, 'final release notes').locator('strong').innerText()).toBe('final release notes');
    }
    expect(await messageTexts(sam.page)).not.toContain('not this');
    // The reply quotes the message as it is now.
    await expect.poll(() => messageRow(sam.page, 'reading them now').getByTestId('reply-quote').innerText()).toContain('final release notes');

    // Sam can neither edit nor delete Maya's message: the actions are not offered.
    await messageRow(sam.page, 'final release notes').hover();
    expect(await messageRow(sam.page, 'final release notes').getByTestId('action-edit').count()).toBe(0);
    expect(await messageRow(sam.page, 'final release notes').getByTestId('action-delete').count()).toBe(0);

    // A deletion, confirmed first: a tombstone for both, without the text.
    await sendFromPage(maya.page, 'wrong room, sorry');
    await expect.poll(() => messageTexts(sam.page)).toContain('wrong room, sorry');
    await messageAction(maya.page, 'wrong room, sorry', 'delete');
    await maya.page.getByTestId('delete-yes').click();
    for (const page of [maya.page, sam.page]) {
      await expect.poll(() => page.getByTestId('tombstone').count()).toBe(1);
      expect(await messageTexts(page)).not.toContain('wrong room, sorry');
      expect(await page.locator('[data-testid="message"][data-deleted="true"]').getByTestId('text').innerText()).toBe('message deleted');
    }

    const expected = async (page: Page, me: 'maya' | 'sam'): Promise<void> => {
      await expect.poll(() => messageTexts(page)).toEqual([
        'Morning @sam, the final release notes are in docs/release.md',
        'Thanks, reading them now',
        'message deleted',
      ]);
      expect(await messageRow(page, 'final release notes').getByTestId('edited').count()).toBe(1);
      expect(await reactionsOf(page, 'final release notes')).toEqual(['🎉2*']);
      expect(await reactionsOf(page, 'reading them now')).toEqual([me === 'maya' ? '👍1*' : '👍1']);
      expect(await messageRow(page, 'reading them now').getByTestId('reply-quote').innerText()).toContain('final release notes');
      expect(await messageRow(page, 'final release notes').getAttribute('data-mentions-me')).toBe(String(me === 'sam'));
    };
    await expected(maya.page, 'maya');
    await expected(sam.page, 'sam');
    await sam.page.setViewportSize({ width: 1280, height: 640 });
    await messageRow(sam.page, 'reading them now').hover();
    const path = await screenshot(sam.page, 'messages-desktop', DOCS_SCREENSHOTS);
    expect(statSync(path).size).toBeGreaterThan(10_000);

    for (const open of [maya, sam]) {
      await open.page.reload();
      await waitConnected(open);
    }
    await expected(maya.page, 'maya');
    await expected(sam.page, 'sam');

    // At phone width the actions and the picker stay on screen, and nothing sticks out sideways.
    await sam.page.setViewportSize(PHONE);
    await messageAction(sam.page, 'final release notes', 'react');
    const picker = await sam.page.getByTestId('reaction-picker').boundingBox();
    expect(picker).not.toBeNull();
    expect(picker!.x).toBeGreaterThanOrEqual(0);
    expect(picker!.x + picker!.width).toBeLessThanOrEqual(PHONE.width);
    expect(await sam.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
    await screenshot(sam.page, 'messages-phone');
    expect(maya.problems).toEqual([]);
    expect(sam.problems).toEqual([]);
  });

  it('jumps to the message a reply quotes, loading older pages when it is not loaded yet', async () => {
    const first = await postMessage(suite.server.url, 'long-thread', 'the very first message');
    for (let n = 0; n < 120; n += 1) await postMessage(suite.server.url, 'long-thread', `filler ${n}`);
    const reader = await suite.enter('long-thread', 'rosa');
    await sendFromPage(reader.page, 'placeholder');
    // A reply to a message 120 messages back, sent over the socket by another person's page.
    const other = await suite.enter('long-thread', 'ivan');
    const frame = JSON.stringify({ type: 'chat.message', message: 'answering the first one', replyTo: first.id });
    await other.page.evaluate(
      ([url, text]) =>
        new Promise<void>((resolve, reject) => {
          const socket = new WebSocket(url!, 'roomcast.v1');
          socket.onmessage = (event) => {
            if (String(event.data).includes('answering the first one')) {
              socket.close();
              resolve();
            }
          };
          socket.onopen = () => socket.send(text!);
          socket.onerror = () => reject(new Error('the socket failed'));
        }),
      [`${suite.server.url.replace(/^http/, 'ws')}/ws/chat/long-thread/`, frame],
    );
    const reply = messageRow(reader.page, 'answering the first one');
    await expect.poll(() => reply.getByTestId('reply-quote').innerText()).toContain('an earlier message');
    expect(await messageTexts(reader.page)).not.toContain('the very first message');
    await reply.getByTestId('reply-quote').click();
    const original = messageRow(reader.page, 'the very first message');
    await expect.poll(() => original.count(), { timeout: 30_000 }).toBe(1);
    await expect.poll(() => original.isVisible()).toBe(true);
    const inView = await original.evaluate((row) => {
      const box = row.getBoundingClientRect();
      return box.top >= 0 && box.bottom <= window.innerHeight;
    });
    expect(inView).toBe(true);
    await expect.poll(() => reply.getByTestId('reply-quote').innerText()).toContain('the very first message');
    expect(reader.problems).toEqual([]);
  });
});
