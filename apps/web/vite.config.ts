import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

/** Where `npm run dev` finds the API (its own `dev` script listens on 8000). */
const API = process.env.ROOMCAST_API ?? 'http://127.0.0.1:8000';
/** Every path the API answers; everything else is the SPA's. */
const API_PATHS = ['/rooms', '/me', '/auth', '/healthz', '/readyz', '/metrics', '/docs'];

export default defineConfig({
  plugins: [vue()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    proxy: {
      ...Object.fromEntries(API_PATHS.map((path) => [path, { target: API }])),
      // Room sockets. The API allows the dev origin through DEV_ORIGINS (set by its `dev` script).
      '/ws': { target: API, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // A strict Content-Security-Policy is coming: no `data:` URLs, everything a real file.
    assetsInlineLimit: 0,
    sourcemap: true,
  },
});
