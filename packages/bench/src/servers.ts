import { fileURLToPath } from 'node:url';
import { freePort, httpOk, start, stop, waitUntil, type Proc } from './procs.js';

/**
 * What the generator speaks to: Roomcast wraps each text in a JSON frame, the baseline does not,
 * Socket.IO in an Engine.IO event packet, and the Django Channels tutorial consumer in
 * `{"message": ...}` (the frame Roomcast's chat-only clients send too).
 */
export type ServerKind = 'roomcast' | 'baseline' | 'socketio' | 'django';

export interface ServerUnderTest {
  kind: ServerKind;
  label: string;
  port: number;
  proc: Proc;
}

/** The API key the bench publishes with over HTTP (the server is its own, on loopback). */
export const BENCH_API_KEY = 'bench-api-key-0123456789abcdef';

/** Extra node flags for the servers under test (profiling: `BENCH_SERVER_NODE_ARGS=--cpu-prof`). */
const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');

const roomcastServer = fileURLToPath(new URL('./server.js', import.meta.resolve('@roomcast/api')));
const baselineServer = fileURLToPath(new URL('./baseline-server.js', import.meta.url));
const socketIoServer = fileURLToPath(new URL('./socketio-server.js', import.meta.url));

/** Every variable that could change what is measured is set here, not inherited. */
const ROOMCAST_ENV_CLEARED = [
  'REDIS_URL',
  'REDIS_CLUSTER_NODES',
  'REDIS_WAIT_REPLICAS',
  'WORKERS',
  'NODE_ENV',
  'REQUIRE_LOGIN',
  'ALLOWED_ORIGINS',
  'HISTORY_LIMIT',
  'SLOW_CONSUMER_BYTES',
  'HEARTBEAT_MS',
  'DJANGO_CHANNEL_LAYER',
  'DJANGO_REDIS_URL',
  'DJANGO_GROUP_PREFIX',
  'DJANGO_LAYER_PREFIX',
  'DJANGO_ENCRYPTION_KEYS',
];

export async function startRoomcast(
  label: string,
  options: { redisUrl?: string; serverPath?: string; env?: Record<string, string> } = {},
): Promise<ServerUnderTest> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PORT: String(port),
    HOST: '127.0.0.1',
    SOCKET_RATE: '0',
    PUBLISH_RATE: '0',
    // Every bench socket comes from 127.0.0.1: the per-address caps and budgets would refuse most.
    MAX_CONNECTIONS_PER_IP: '0',
    IP_MESSAGE_RATE: '0',
    USER_MESSAGE_RATE: '0',
    CONNECT_RATE: '0',
    LOG_LEVEL: 'warn',
    API_KEYS: `bench:${BENCH_API_KEY}`,
    SESSION_SECRET: 'bench-session-secret-bench-session-secret',
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
    ...options.env,
  };
  const unset = ROOMCAST_ENV_CLEARED.filter((name) => !(name in env));
  const proc = start(label, process.execPath, [...nodeArgs, options.serverPath ?? roomcastServer], env, unset);
  const server: ServerUnderTest = { kind: 'roomcast', label, port, proc };
  await ready(server);
  return server;
}

export async function startBaseline(label = 'bare ws'): Promise<ServerUnderTest> {
  const port = await freePort();
  const proc = start(label, process.execPath, [...nodeArgs, baselineServer], { PORT: String(port) });
  const server: ServerUnderTest = { kind: 'baseline', label, port, proc };
  await ready(server);
  return server;
}

/** Socket.IO 4, one process, or one of several over @socket.io/redis-adapter with `redisUrl`. */
export async function startSocketIo(label: string, redisUrl?: string): Promise<ServerUnderTest> {
  const port = await freePort();
  const proc = start(label, process.execPath, [...nodeArgs, socketIoServer], { PORT: String(port), ...(redisUrl ? { REDIS_URL: redisUrl } : {}) }, redisUrl ? [] : ['REDIS_URL']);
  const server: ServerUnderTest = { kind: 'socketio', label, port, proc };
  await ready(server);
  return server;
}

async function ready(server: ServerUnderTest): Promise<void> {
  const path = server.kind === 'roomcast' ? '/readyz' : '/healthz';
  try {
    await waitUntil(server.proc, () => httpOk(server.port, path), 20_000, `${path} to answer 200`);
  } catch (error) {
    await stop(server.proc);
    throw error;
  }
}

export async function stopServer(server: ServerUnderTest): Promise<void> {
  await stop(server.proc);
}
