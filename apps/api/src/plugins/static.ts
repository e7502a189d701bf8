import { relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import '../types.js';

/** Vite names every file under `assets/` by its content hash: it can be cached for good. */
const HASHED_ASSETS_DIR = 'assets';
const CACHE_IMMUTABLE = 'public, max-age=31536000, immutable';
/** The shell (and anything not hashed) must be revalidated so a deploy reaches every browser. */
const CACHE_REVALIDATE = 'no-cache';

export interface WebRootOptions {
  /** Directory of the built SPA (its `index.html` and `assets/`). */
  root: string;
}

/**
 * Serves the built SPA from the API process. Files come from `root`; `/`, `/chat/` and
 * `/chat/...` deep links answer `index.html`; anything else that is not a file falls through to the JSON 404, so
 * `/rooms...`, `/auth...` and `/ws...` keep answering `{error, code}`.
 */
export default fp<WebRootOptions>(
  async (app, { root }) => {
    await app.register(fastifyStatic, {
      root,
      prefix: '/',
      index: ['index.html'],
      // Our own Cache-Control below, not @fastify/static's max-age=0 default.
      cacheControl: false,
      setHeaders(reply, path) {
        const inAssets = relative(root, path).split(sep)[0] === HASHED_ASSETS_DIR;
        reply.header('cache-control', inAssets ? CACHE_IMMUTABLE : CACHE_REVALIDATE);
      },
    });

    // The SPA's room route: the browser asks for the page, the SPA's router draws the room.
    app.get('/chat/*', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
    // `/chat/` itself is the lobby, where the Django Channels tutorial keeps its index page.
    app.get('/chat', { schema: { hide: true } }, (_request, reply) => reply.sendFile('index.html'));
  },
  { name: 'roomcast-static', fastify: '5.x' },
);
