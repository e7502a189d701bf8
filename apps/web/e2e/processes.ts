import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, spawnServer, type ServerProcess } from '@roomcast/testing';

// Waiting, ports, private redis-servers and a cuttable link are shared with the API tests.
export { REPO, eventually, freePort, startLink, startRedis, type Link, type TestRedis } from '@roomcast/testing';

const WEB_ROOT = join(REPO, 'apps/web/dist');

/** The API key the tests post with (seeding rooms, another client that keeps posting). */
export const API_KEY = 'e2e-service-key-0123456789';

export type ServerHandle = ServerProcess;

/**
 * Starts the built server (what `npm start` runs) on a free port, or on `port`, serving the built
 * SPA, and waits until `/healthz` answers.
 */
export async function startServer(env: Record<string, string> = {}, port?: number): Promise<ServerHandle> {
  if (!existsSync(join(WEB_ROOT, 'index.html'))) throw new Error(`${WEB_ROOT}/index.html is missing: build the web app first (npm run build)`);
  return spawnServer(
    {
      WEB_ROOT,
      SESSION_SECRET: 'e2e-session-secret-e2e-session-secret',
      API_KEYS: API_KEY,
      PUBLISH_RATE: '0',
      ...env,
    },
    { readyPath: '/healthz', ...(port === undefined ? {} : { port }) },
  );
}

/** Posts a message as the test's API key: another client that is not a browser. */
export async function postMessage(base: string, room: string, message: string, key = API_KEY): Promise<{ id: string; message: string }> {
  const response = await fetch(`${base}/rooms/${room}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message }),
  });
  if (response.status !== 201) throw new Error(`POST /rooms/${room}/messages answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { id: string; message: string };
}
