import { createPublicKey, randomBytes } from 'node:crypto';
import { ROOM_PATTERN } from '@roomcast/protocol';
import { availableParallelism } from 'node:os';
import { roomSweepMs } from './rooms/idle-rooms.js';
import ipaddr from 'ipaddr.js';

/** Everything the server reads from its environment, validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded in-memory backend. */
  redisUrl: string | undefined;
  /** Seed nodes (`host:port`) of a Redis Cluster the Redis backend shards rooms over; never with `redisUrl`. */
  redisClusterNodes: string[] | undefined;
  /** Replicas that must hold a message (`WAIT`) before its publish is acknowledged; 0: none. */
  redisWaitReplicas: number;
  sessionSecret: string;
  /** True when no SESSION_SECRET was given and a random one was made for this start. */
  sessionSecretGenerated: boolean;
  /** API keys accepted on `POST /rooms/:room/messages`, each with the name its messages carry. */
  apiKeys: ApiKey[];
  /** Undefined: the server's own origin (plus `devOrigins`). */
  allowedOrigins: string[] | undefined;
  /** Extra origins allowed in development (the Vite dev server under `npm run dev`). */
  devOrigins: string[];
  requireLogin: boolean;
  historyLimit: number;
  /** Chat messages per second per socket; 0 turns the limit off. Bursts up to twice this. */
  socketRate: number;
  /** HTTP publishes per second per API key (bursts up to twice this); 0 turns the limit off. */
  publishRate: number;
  /** Chat messages per second from one client IP, over all its sockets on a node (bursts up to twice this); 0: off. */
  ipMessageRate: number;
  /** Chat messages per second from one signed-in user, over all their sockets on a node (bursts up to twice this); 0: off. */
  userMessageRate: number;
  /** New sockets per second from one client IP, over the cluster (bursts up to twice this); 0: off. */
  connectRate: number;
  /** A room nobody claimed, with no socket and no new message for this long, is forgotten (ms). */
  roomIdleTtlMs: number;
  /** How often occupied rooms restart their idle clock and (embedded) idle rooms are dropped (ms). */
  roomSweepMs: number;
  /** Unsent bytes a socket may queue before it is closed with 1013. */
  slowConsumerBytes: number;
  /** How often sockets are pinged; one that has not answered the previous ping is cut. 0: never. */
  heartbeatMs: number;
  /** Open connections (HTTP and WebSocket) allowed per client address on one node; 0: no cap. */
  maxConnectionsPerIp: number;
  /** A request's headers must arrive within this (ms), or it is answered 408 and cut. */
  headersTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this (ms); also the idle limit of a connection mid-request. */
  requestTimeoutMs: number;
  /** A keep-alive connection with no request for this long (ms) is closed. */
  keepAliveTimeoutMs: number;
  /** When set, `/metrics` answers only `Authorization: Bearer METRICS_TOKEN`. */
  metricsToken: string | undefined;
  /** Bytes of history one resume (`since`) replays at most; past it the oldest are skipped (`complete: false`). */
  resumeMaxBytes: number;
  /** Replay bytes sent to one IP's sockets and not yet acknowledged (pong) at any moment, on one node. */
  resumeBufferPerIp: number;
  /** Resumes per second per client IP (bursts up to twice this); beyond it the upgrade gets 429. 0: off. */
  resumeRate: number;
  /** A room's presence frame goes out at most this often (ms); changes meanwhile are folded into the next. */
  presenceIntervalMs: number;
  /** Rooms with more connections than this get presence counts (`count`), not every name. */
  presenceListMax: number;
  /** Number of worker processes (node:cluster) on the Redis backend; 1 runs in-process. */
  workers: number;
  /**
   * Which `X-Forwarded-*` to believe: false (none), a hop count (that many proxies in front, the
   * client is the address the last of them saw), or the proxies' addresses and CIDRs.
   */
  trustProxy: TrustProxy;
  production: boolean;
  logLevel: string;
  /** `pretty`: readable lines (pino-pretty) for a person at a terminal; `json`: one JSON object a line. */
  logFormat: 'json' | 'pretty';
  /** Directory of the built SPA to serve; undefined serves none. */
  webRoot: string | undefined;
  /** Verifies HS256 connection tokens; undefined: not accepted with a secret. */
  tokenSecret: string | undefined;
  /** PEM public key (RSA or P-256) verifying RS256 / ES256 connection tokens. */
  tokenPublicKey: string | undefined;
  /** Asked who a visitor without a Roomcast session is (their cookies forwarded). */
  authHookUrl: string | undefined;
  /** The Django Channels bridge; undefined when DJANGO_CHANNEL_LAYER is unset. */
  django: DjangoConfig | undefined;
}

/** The Django project's channels_redis layer that Roomcast joins (docs/django.md). */
export interface DjangoConfig {
  /** `core`: channels_redis.core.RedisChannelLayer; `pubsub`: RedisPubSubChannelLayer. */
  layer: 'core' | 'pubsub';
  /** The one Redis in the layer's `hosts`. */
  redisUrl: string;
  /** Room `R` is the Django group `groupPrefix + R`. */
  groupPrefix: string;
  /** The layer's `prefix` setting. */
  layerPrefix: string;
  /** The layer's `symmetric_encryption_keys`; empty: no encryption. */
  encryptionKeys: string[];
}

export type TrustProxy = false | number | string[];

export interface ApiKey {
  key: string;
  /** The `user` of messages published with this key. */
  name: string;
  /** `name:key:room1|room2`: the only rooms the key may read and post in (private ones included); unset: every room that is not private. */
  rooms?: string[];
}

/** A bad environment value: start-up stops with this one line, naming the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got ${JSON.stringify(raw)}`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got ${JSON.stringify(raw)}`);
}

function list(env: Env, name: string): string[] | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function redisUrl(env: Env, name = 'REDIS_URL'): string | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new ConfigError(name, `must start with redis:// or rediss://, got ${url.protocol}//`);
  }
  return raw;
}

/** `REDIS_CLUSTER_NODES`: `host:port` entries, and never together with `REDIS_URL`. */
function redisClusterNodes(env: Env): string[] | undefined {
  const nodes = list(env, 'REDIS_CLUSTER_NODES');
  if (nodes === undefined) return undefined;
  for (const node of nodes) {
    const match = /^(.+):(\d{1,5})$/.exec(node);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new ConfigError('REDIS_CLUSTER_NODES', `must be host:port entries separated by commas, got ${JSON.stringify(node)}`);
    }
  }
  if (redisUrl(env) !== undefined) {
    throw new ConfigError('REDIS_CLUSTER_NODES', 'cannot be set together with REDIS_URL: set REDIS_URL for one Redis, or REDIS_CLUSTER_NODES for a Redis Cluster');
  }
  return nodes;
}

/** True when the Redis backend runs (on one Redis or on a Redis Cluster). */
export const usesRedis = (config: Pick<Config, 'redisUrl' | 'redisClusterNodes'>): boolean =>
  config.redisUrl !== undefined || config.redisClusterNodes !== undefined;

/** channels_redis's group names: ASCII letters, digits, `-`, `_`, `.`, under 100 characters with the room. */
const DJANGO_GROUP_PREFIX = /^[A-Za-z0-9_.-]{0,35}$/;
const DJANGO_LAYER_PREFIX = /^[\x21-\x7e]{1,64}$/;

function django(env: Env): DjangoConfig | undefined {
  const layer = env.DJANGO_CHANNEL_LAYER?.trim();
  if (layer === undefined || layer === '') return undefined;
  if (layer !== 'core' && layer !== 'pubsub') {
    throw new ConfigError('DJANGO_CHANNEL_LAYER', `must be core or pubsub, got ${JSON.stringify(layer)}`);
  }
  const url = redisUrl(env, 'DJANGO_REDIS_URL') ?? redisUrl(env);
  if (url === undefined) throw new ConfigError('DJANGO_REDIS_URL', 'is required when REDIS_URL is unset (the Redis in the layer\'s hosts; a Redis Cluster is not one)');
  const groupPrefix = env.DJANGO_GROUP_PREFIX?.trim() ?? 'chat_';
  if (!DJANGO_GROUP_PREFIX.test(groupPrefix)) {
    throw new ConfigError('DJANGO_GROUP_PREFIX', 'must be at most 35 ASCII letters, digits, "-", "_" or "."');
  }
  const layerPrefix = env.DJANGO_LAYER_PREFIX?.trim() || 'asgi';
  if (!DJANGO_LAYER_PREFIX.test(layerPrefix)) {
    throw new ConfigError('DJANGO_LAYER_PREFIX', 'must be 1 to 64 visible ASCII characters');
  }
  return { layer, redisUrl: url, groupPrefix, layerPrefix, encryptionKeys: list(env, 'DJANGO_ENCRYPTION_KEYS') ?? [] };
}

function origin(name: string, raw: string): string {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
    return url.origin;
  } catch {
    throw new ConfigError(name, `has an entry that is not an http(s) origin: ${JSON.stringify(raw)}`);
  }
}

function apiKeys(env: Env): ApiKey[] {
  return (list(env, 'API_KEYS') ?? []).map((entry) => {
    // `name:key` names the service its messages come from; a bare key posts as "service";
    // `name:key:room1|room2` also scopes the key to those rooms.
    const parts = entry.split(':');
    if (parts.length > 3) throw new ConfigError('API_KEYS', 'entries are KEY, NAME:KEY or NAME:KEY:ROOM1|ROOM2');
    const named = parts.length >= 2 && parts[0] !== '' && parts[1] !== '';
    const key = named ? parts[1]! : entry;
    const name = named ? parts[0]! : 'service';
    if (key.length < 16) throw new ConfigError('API_KEYS', 'every key must be at least 16 characters');
    if (parts.length < 3) return { key, name };
    const rooms = parts[2]!.split('|');
    if (!rooms.every((room) => ROOM_PATTERN.test(room))) throw new ConfigError('API_KEYS', `the rooms of key "${name}" must be room names separated by "|"`);
    return { key, name, rooms };
  });
}

function sessionSecret(env: Env, production: boolean): { secret: string; generated: boolean } {
  const raw = env.SESSION_SECRET;
  if (raw === undefined || raw === '') {
    if (production) throw new ConfigError('SESSION_SECRET', 'is required when NODE_ENV=production (at least 32 characters)');
    return { secret: randomBytes(32).toString('base64url'), generated: true };
  }
  if (raw.length < 32) throw new ConfigError('SESSION_SECRET', 'must be at least 32 characters');
  return { secret: raw, generated: false };
}

/** proxy-addr's names for address ranges, accepted in TRUST_PROXY like Express and Fastify accept them. */
const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
const MAX_PROXY_HOPS = 10;

function isAddressOrRange(entry: string): boolean {
  if (PROXY_RANGE_NAMES.includes(entry)) return true;
  if (!entry.includes('/')) return ipaddr.isValid(entry);
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

/**
 * `TRUST_PROXY`: a hop count or the proxies' addresses. `true` is refused: it would believe the
 * leftmost `X-Forwarded-For` entry, which the client writes itself, so every per-address limit
 * could be dodged by sending a new address with each request.
 */
function trustProxy(env: Env): TrustProxy {
  const raw = env.TRUST_PROXY?.trim().toLowerCase();
  if (raw === undefined || ['', 'false', '0', 'no', 'off'].includes(raw)) return false;
  if (['true', 'yes', 'on'].includes(raw)) {
    throw new ConfigError(
      'TRUST_PROXY',
      'true would believe any X-Forwarded-For a client sends; give the number of proxies in front of Roomcast (e.g. 1) or their addresses/CIDRs',
    );
  }
  if (/^\d+$/.test(raw)) return integer(env, 'TRUST_PROXY', 0, 1, MAX_PROXY_HOPS);
  const entries = list(env, 'TRUST_PROXY') ?? [];
  const bad = entries.find((entry) => !isAddressOrRange(entry));
  if (bad !== undefined) {
    throw new ConfigError('TRUST_PROXY', `must be a hop count or proxy addresses/CIDRs, got ${JSON.stringify(bad)}`);
  }
  return entries;
}

/** The HTTP timeouts: a header deadline longer than the whole request's could never fire. */
function timeouts(env: Env): Pick<Config, 'headersTimeoutMs' | 'requestTimeoutMs' | 'keepAliveTimeoutMs'> {
  const headersTimeoutMs = integer(env, 'HEADERS_TIMEOUT_MS', 10_000, 100, 600_000);
  const requestTimeoutMs = integer(env, 'REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000);
  if (headersTimeoutMs > requestTimeoutMs) {
    throw new ConfigError('HEADERS_TIMEOUT_MS', `must not be longer than REQUEST_TIMEOUT_MS (${requestTimeoutMs})`);
  }
  return { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000) };
}

function metricsToken(env: Env): string | undefined {
  const raw = env.METRICS_TOKEN?.trim();
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 16) throw new ConfigError('METRICS_TOKEN', 'must be at least 16 characters');
  return raw;
}

/** Without ALLOWED_ORIGINS the origin check falls back on the `Host` header, which DNS rebinding controls. */
function allowedOrigins(env: Env, production: boolean): string[] | undefined {
  const origins = list(env, 'ALLOWED_ORIGINS')?.map((entry) => origin('ALLOWED_ORIGINS', entry));
  if (origins === undefined && production) {
    throw new ConfigError('ALLOWED_ORIGINS', 'is required when NODE_ENV=production: the origins your users load the app from, e.g. https://chat.example.com');
  }
  return origins;
}

function tokenSecret(env: Env): string | undefined {
  const raw = env.TOKEN_SECRET;
  if (raw === undefined || raw === '') return undefined;
  // HS256 with a short secret can be brute-forced offline from one token.
  if (raw.length < 32) throw new ConfigError('TOKEN_SECRET', 'must be at least 32 characters');
  return raw;
}

function tokenPublicKey(env: Env): string | undefined {
  const raw = env.TOKEN_PUBLIC_KEY?.trim();
  if (raw === undefined || raw === '') return undefined;
  // One-line environments carry the PEM's line breaks as `\n`.
  const pem = raw.replace(/\\n/g, '\n');
  let key;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new ConfigError('TOKEN_PUBLIC_KEY', 'is not a PEM public key (-----BEGIN PUBLIC KEY-----)');
  }
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (key.asymmetricKeyType !== 'rsa' && !(key.asymmetricKeyType === 'ec' && curve === 'prime256v1')) {
    throw new ConfigError('TOKEN_PUBLIC_KEY', 'must be an RSA key (RS256) or a P-256 key (ES256)');
  }
  return pem;
}

function authHookUrl(env: Env): string | undefined {
  const raw = env.AUTH_HOOK_URL?.trim();
  if (raw === undefined || raw === '') return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError('AUTH_HOOK_URL', `is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('AUTH_HOOK_URL', 'must start with http:// or https://');
  return url.toString();
}

function workers(env: Env): number {
  const raw = env.WORKERS?.trim();
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return availableParallelism();
  return integer(env, 'WORKERS', 1, 1, 256);
}

function logFormat(env: Env, tty: boolean): 'json' | 'pretty' {
  const raw = env.LOG_FORMAT?.trim().toLowerCase();
  if (raw === undefined || raw === '') return tty ? 'pretty' : 'json';
  if (raw === 'json' || raw === 'pretty') return raw;
  throw new ConfigError('LOG_FORMAT', `must be json or pretty, got ${JSON.stringify(raw)}`);
}

/**
 * Reads and checks the environment. Throws a ConfigError naming the first bad variable.
 * `defaults.tty`: stdout is a terminal, so logs default to readable lines.
 */
export function loadConfig(env: Env = process.env, defaults: { webRoot?: string; tty?: boolean } = {}): Config {
  const production = env.NODE_ENV === 'production';
  const secret = sessionSecret(env, production);
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  // 30 days; at most 100 years, so that milliseconds stay exact and Redis accepts the expiry.
  const roomIdleTtl = integer(env, 'ROOM_IDLE_TTL', 30 * 24 * 60 * 60, 1, 100 * 365 * 24 * 60 * 60);
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const config: Config = {
    port: integer(env, 'PORT', 8000, 0, 65535),
    host,
    redisUrl: redisUrl(env),
    redisClusterNodes: redisClusterNodes(env),
    redisWaitReplicas: integer(env, 'REDIS_WAIT_REPLICAS', 0, 0, 100),
    sessionSecret: secret.secret,
    sessionSecretGenerated: secret.generated,
    apiKeys: apiKeys(env),
    allowedOrigins: allowedOrigins(env, production),
    devOrigins: (list(env, 'DEV_ORIGINS') ?? []).map((entry) => origin('DEV_ORIGINS', entry)),
    requireLogin: boolean(env, 'REQUIRE_LOGIN', false),
    historyLimit: integer(env, 'HISTORY_LIMIT', 1000, 1, 1_000_000),
    socketRate: integer(env, 'SOCKET_RATE', 20, 0, 1_000_000),
    publishRate: integer(env, 'PUBLISH_RATE', 100, 0, 1_000_000),
    ipMessageRate: integer(env, 'IP_MESSAGE_RATE', 60, 0, 1_000_000),
    userMessageRate: integer(env, 'USER_MESSAGE_RATE', 30, 0, 1_000_000),
    connectRate: integer(env, 'CONNECT_RATE', 20, 0, 1_000_000),
    roomIdleTtlMs: roomIdleTtl * 1000,
    roomSweepMs: integer(env, 'ROOM_SWEEP_INTERVAL', Math.ceil(roomSweepMs(roomIdleTtl * 1000) / 1000), 1, 86_400) * 1000,
    slowConsumerBytes: integer(env, 'SLOW_CONSUMER_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 30_000, 0, 3_600_000),
    maxConnectionsPerIp: integer(env, 'MAX_CONNECTIONS_PER_IP', 200, 0, 10_000_000),
    ...timeouts(env),
    metricsToken: metricsToken(env),
    resumeMaxBytes: integer(env, 'RESUME_MAX_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
    resumeBufferPerIp: integer(env, 'RESUME_BUFFER_PER_IP', 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    resumeRate: integer(env, 'RESUME_RATE', 10, 0, 1_000_000),
    presenceIntervalMs: integer(env, 'PRESENCE_INTERVAL_MS', 250, 0, 60_000),
    presenceListMax: integer(env, 'PRESENCE_LIST_MAX', 100, 0, 1_000_000),
    workers: workers(env),
    trustProxy: trustProxy(env),
    production,
    logLevel,
    logFormat: logFormat(env, defaults.tty ?? false),
    webRoot: env.WEB_ROOT?.trim() || defaults.webRoot,
    tokenSecret: tokenSecret(env),
    tokenPublicKey: tokenPublicKey(env),
    authHookUrl: authHookUrl(env),
    django: django(env),
  };
  if (config.workers > 1 && !usesRedis(config)) {
    throw new ConfigError('WORKERS', 'needs REDIS_URL or REDIS_CLUSTER_NODES: workers share rooms through Redis, the embedded backend cannot be shared');
  }
  return config;
}

/** A config for tests and embedding: the defaults, with a fixed secret, overridden by `overrides`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    ...loadConfig({ SESSION_SECRET: 'test-secret-test-secret-test-secret!', LOG_LEVEL: 'silent', PORT: '0' }),
    ...overrides,
  };
}
