import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { testConfig } from '../../src/config.js';

const INDEX = '<!doctype html><title>Roomcast</title><div id="app"></div><script type="module" src="/assets/index-abc123.js"></script>';
const SCRIPT = 'console.log("spa")';

describe('static SPA serving', () => {
  let app: FastifyInstance;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'roomcast-web-'));
    mkdirSync(join(webRoot, 'assets'));
    writeFileSync(join(webRoot, 'index.html'), INDEX);
    writeFileSync(join(webRoot, 'assets', 'index-abc123.js'), SCRIPT);
    writeFileSync(join(webRoot, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    app = await buildApp(testConfig({ webRoot }));
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    rmSync(webRoot, { recursive: true, force: true });
  });

  it('answers / with index.html, revalidated on every load', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toBe(INDEX);
  });

  it.each(['/chat/lobby/', '/chat/lobby', '/chat/some_room-2/', '/chat/', '/chat'])('answers the deep link %s with index.html', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.body).toBe(INDEX);
  });

  it('caches hashed assets for a year, immutable', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.body).toBe(SCRIPT);
  });

  it('revalidates files outside assets/', async () => {
    const response = await app.inject({ method: 'GET', url: '/favicon.svg' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-cache');
  });

  it.each(['/rooms/lobby/nope', '/auth/nope', '/ws/nope', '/assets/missing.js', '/nothing-here'])(
    'keeps the JSON 404 for %s',
    async (url) => {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toMatchObject({ code: 'not_found' });
    },
  );

  it('keeps the API routes answering as before', async () => {
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.json()).toEqual({ status: 'ok' });
    const page = await app.inject({ method: 'GET', url: '/rooms/lobby/messages' });
    expect(page.statusCode).toBe(200);
    expect(page.json()).toEqual({ messages: [], hasMore: false });
  });

  it('does not serve files from outside the web root', async () => {
    const response = await app.inject({ method: 'GET', url: '/../../etc/passwd' });
    expect([403, 404]).toContain(response.statusCode);
    expect(response.body).not.toContain('root:');
  });
});

describe('without a web root', () => {
  it('serves no SPA: / is the JSON 404', async () => {
    const app = await buildApp(testConfig({ webRoot: undefined }));
    try {
      const response = await app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({ code: 'not_found' });
    } finally {
      await app.close();
    }
  });
});
