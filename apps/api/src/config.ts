import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';

/** Everything the server reads from its environment, validated once at start-up. */
export interface Config {
  port: number;
  host: string;
  /** Unset: the embedded in-memory backend. */
  redisUrl: string | undefined;
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
  /** Unsent bytes a socket may queue before it is closed with 1013. */
  slowConsumerBytes: number;
  /** How often sockets are pinged; one that has not answered the previous ping is cut. 0: never. */
  heartbeatMs: number;
  /** Open sockets allowed per client IP on one node; 0: no cap. */
  maxConnectionsPerIp: number;
  /** Number of worker processes (node:cluster) on the Redis backend; 1 runs in-process. */
  workers: number;
  trustProxy: boolean;
  production: boolean;
  logLevel: string;
  /** Directory of the built SPA to serve; undefined serves none. */
  webRoot: string | undefined;
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

export interface ApiKey {
  key: string;
  /** The `user` of messages published with this key. */
  name: string;
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
  if (url === undefined) throw new ConfigError('DJANGO_REDIS_URL', 'is required when REDIS_URL is unset (the Redis in the layer\'s hosts)');
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
    // `name:key` names the service its messages come from; a bare key posts as "service".
    const colon = entry.indexOf(':');
    const named = colon > 0 && colon < entry.length - 1;
    const key = named ? entry.slice(colon + 1) : entry;
    const name = named ? entry.slice(0, colon) : 'service';
    if (key.length < 16) throw new ConfigError('API_KEYS', 'every key must be at least 16 characters');
    return { key, name };
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

function workers(env: Env): number {
  const raw = env.WORKERS?.trim();
  if (raw === undefined || raw === '') return 1;
  if (raw === 'auto') return availableParallelism();
  return integer(env, 'WORKERS', 1, 1, 256);
}

/** Reads and checks the environment. Throws a ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, defaults: { webRoot?: string } = {}): Config {
  const production = env.NODE_ENV === 'production';
  const secret = sessionSecret(env, production);
  const host = env.HOST?.trim() || '127.0.0.1';
  const logLevel = env.LOG_LEVEL?.trim() || 'info';
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  const config: Config = {
    port: integer(env, 'PORT', 8000, 0, 65535),
    host,
    redisUrl: redisUrl(env),
    sessionSecret: secret.secret,
    sessionSecretGenerated: secret.generated,
    apiKeys: apiKeys(env),
    allowedOrigins: list(env, 'ALLOWED_ORIGINS')?.map((entry) => origin('ALLOWED_ORIGINS', entry)),
    devOrigins: (list(env, 'DEV_ORIGINS') ?? []).map((entry) => origin('DEV_ORIGINS', entry)),
    requireLogin: boolean(env, 'REQUIRE_LOGIN', false),
    historyLimit: integer(env, 'HISTORY_LIMIT', 1000, 1, 1_000_000),
    socketRate: integer(env, 'SOCKET_RATE', 20, 0, 1_000_000),
    publishRate: integer(env, 'PUBLISH_RATE', 100, 0, 1_000_000),
    slowConsumerBytes: integer(env, 'SLOW_CONSUMER_BYTES', 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    heartbeatMs: integer(env, 'HEARTBEAT_MS', 30_000, 0, 3_600_000),
    maxConnectionsPerIp: integer(env, 'MAX_CONNECTIONS_PER_IP', 200, 0, 10_000_000),
    workers: workers(env),
    trustProxy: boolean(env, 'TRUST_PROXY', false),
    production,
    logLevel,
    webRoot: env.WEB_ROOT?.trim() || defaults.webRoot,
    django: django(env),
  };
  if (config.workers > 1 && config.redisUrl === undefined) {
    throw new ConfigError('WORKERS', 'needs REDIS_URL: workers share rooms through Redis, the embedded backend cannot be shared');
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
