import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { startServer, type ServerHandle } from './processes.js';

/** The processes the tests start (the built server, Redis, a link to cut) live beside these. */
export * from './processes.js';

export const SCREENSHOTS = fileURLToPath(new URL('./screenshots/', import.meta.url));
/** Screenshots the docs show (committed), as opposed to the tests' own (not committed). */
export const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));

export const CHROMIUM = '/usr/bin/chromium';
/** Every wait in these tests is bounded by this unless it says otherwise. */
export const WAIT_MS = 15_000;

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 375, height: 740 };

// ---------------------------------------------------------------- Chromium

/** Debian's Chromium, headless, with `extraArgs`. `npx playwright install` cannot download browsers here. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: install it (Debian: apt-get install -y chromium) to run the browser tests.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
    timeout: 60_000,
  });
}

export interface OpenPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught errors, dialogs (alert, confirm) and Content-Security-Policy violations. */
  problems: string[];
  /** The page's console and failed requests, for the message of a test that fails. */
  log: string[];
}

/** A fresh context (its own cookies and storage: one user) with one page. */
export async function openPage(browser: Browser, viewport = DESKTOP): Promise<OpenPage> {
  const context = await browser.newContext({ viewport, reducedMotion: 'reduce' });
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  const problems: string[] = [];
  const log: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog: ${dialog.type()} ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('console', (message) => {
    log.push(`console ${message.type()}: ${message.text()}`);
    if (/Content[- ]Security[- ]Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`);
  });
  page.on('requestfailed', (request) => log.push(`request failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  return { context, page, problems, log };
}

/** Waits until the room page says Connected; on failure says what the page showed and logged. */
export async function waitConnected(open: OpenPage, timeoutMs = WAIT_MS): Promise<void> {
  try {
    await open.page.locator('[data-testid="connection"][data-state="connected"]').waitFor({ timeout: timeoutMs });
  } catch (error) {
    const body = await open.page.locator('body').innerText().catch(() => '(no body)');
    throw new Error(
      `the page did not connect: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}\n` +
        `url: ${open.page.url()}\nshown: ${body.slice(0, 500)}\nlog:\n${open.log.slice(-20).join('\n')}\nproblems: ${open.problems.join('; ')}`,
    );
  }
}

export const PASSWORD = 'correct horse battery staple';

/** Logs `username` in over HTTP inside `context` (another device of the same person). */
export async function logInIn(context: BrowserContext, base: string, username: string): Promise<void> {
  const response = await context.request.post(`${base}/auth/login`, { data: { username, password: PASSWORD } });
  if (response.status() !== 200) throw new Error(`POST /auth/login answered ${response.status()}: ${await response.text()}`);
}

/** Registers `username` over HTTP inside `context`, so its pages are logged in as that user. */
export async function registerIn(context: BrowserContext, base: string, username: string): Promise<void> {
  const response = await context.request.post(`${base}/auth/register`, { data: { username, password: PASSWORD } });
  if (response.status() !== 201) throw new Error(`POST /auth/register answered ${response.status()}: ${await response.text()}`);
}

// ---------------------------------------------------------------- reading the page

/** Text of every message in the log, in order. */
export function messageTexts(page: Page): Promise<string[]> {
  return page.locator('[data-testid="message"] [data-testid="text"]').allInnerTexts();
}

/** IDs of every confirmed message in the log, in order. */
export function messageIds(page: Page): Promise<string[]> {
  return page.locator('[data-testid="message"][data-state="confirmed"]').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-id') ?? ''));
}

export async function screenshot(page: Page, name: string, folder = SCREENSHOTS): Promise<string> {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** The row of the message whose text contains `text` (the newest such). */
export const messageRow = (page: Page, text: string) => page.locator('[data-testid="message"]', { has: page.getByTestId('text').getByText(text) }).last();

/** Hovers a message and clicks one of its actions (`reply`, `react`, `edit`, `delete`). */
export async function messageAction(page: Page, text: string, action: 'reply' | 'react' | 'edit' | 'delete'): Promise<void> {
  const row = messageRow(page, text);
  await row.hover();
  await row.getByTestId(`action-${action}`).click();
}

/** Types `text` into the room's input and sends it with Enter. */
export async function sendFromPage(page: Page, text: string): Promise<void> {
  const input = page.getByTestId('message-input');
  await input.fill(text);
  await input.press('Enter');
}

// ---------------------------------------------------------------- one server and browser per block

/** What browserSuite() gives a describe block's tests. */
export interface BrowserSuite {
  /** The block's server (once its tests run). */
  readonly server: ServerHandle;
  /** A fresh page in a context of its own, closed after the block. */
  fresh(): Promise<OpenPage>;
  /** A fresh page (registered as `username` if given) on `room`, connected. */
  enter(room: string, username?: string): Promise<OpenPage>;
}

/**
 * One built server (started with `env`) and one Chromium for a describe block, started before its
 * tests; after them every page's context, the browser and the server are closed.
 */
export function browserSuite(env: Record<string, string> = {}): BrowserSuite {
  let server: ServerHandle | undefined;
  let browser: Browser | undefined;
  const pages: OpenPage[] = [];
  beforeAll(async () => {
    server = await startServer(env);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await Promise.allSettled(pages.map((open) => open.context.close()));
    await browser?.close();
    await server?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('browserSuite: the server and browser start before the tests; use them inside one');
    return value;
  };
  const fresh = async (): Promise<OpenPage> => {
    const open = await openPage(started(browser));
    pages.push(open);
    return open;
  };
  return {
    get server() {
      return started(server);
    },
    fresh,
    async enter(room, username) {
      const open = await fresh();
      const base = started(server).url;
      if (username !== undefined) await registerIn(open.context, base, username);
      await open.page.goto(`${base}/chat/${room}/`);
      await waitConnected(open);
      return open;
    },
  };
}
