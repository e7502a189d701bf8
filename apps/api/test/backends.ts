import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { createMemoryBackend, type Backend } from '../src/backend.js';
import { testConfig, type Config } from '../src/config.js';
import type { Channel, GroupEvent } from '../src/layer/channel-layer.js';
import { Metrics } from '../src/metrics.js';
import { createRedisBackend } from '../src/redis/backend.js';
import { REDIS_CLIENT_OPTIONS } from '../src/redis/client.js';
import type { PresenceTiming } from '../src/redis/presence.js';
import { eventually, startRedis, type TestRedis } from './helpers.js';

/**
 * Backends built directly (no HTTP), for the suites that run against every implementation:
 * `layerSuite(factory)`, `historySuite(factory)`, `presenceSuite(factory)`.
 */
export interface BackendOptions {
  historyLimit?: number;
  presenceTiming?: PresenceTiming;
  /** Config of presence frames (interval, list limit); the defaults otherwise. */
  presence?: Partial<Pick<Config, 'presenceIntervalMs' | 'presenceListMax'>>;
}

/** The config a factory's backend runs with. */
const backendConfig = (options: BackendOptions, extra: Partial<Config> = {}): Config =>
  testConfig({ ...(options.historyLimit === undefined ? {} : { historyLimit: options.historyLimit }), ...options.presence, ...extra });

export interface BackendFactory {
  readonly name: string;
  /** Runs once before the suite (starts redis-server for the Redis factory). */
  setUp(): Promise<void>;
  /** A backend; with Redis, every backend made shares one server, like nodes of one cluster. */
  create(options?: BackendOptions): Promise<Backend>;
  /** Closes every backend made and forgets all state; after each test. */
  reset(): Promise<void>;
  tearDown(): Promise<void>;
}

/** A logger that records warnings, so tests can assert on what was logged and dropped. */
export function recordingLogger(): FastifyBaseLogger & { warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  const logger = {
    level: 'warn',
    warnings,
    fatal: noop,
    error: noop,
    info: noop,
    debug: noop,
    trace: noop,
    silent: noop,
    warn: (first: unknown, second?: unknown) => {
      warnings.push(typeof first === 'string' ? first : String(second));
    },
    child: () => logger,
  };
  return logger as unknown as FastifyBaseLogger & { warnings: string[] };
}

export function memoryFactory(): BackendFactory {
  const made: Backend[] = [];
  return {
    name: 'memory',
    setUp: async () => undefined,
    async create(options = {}) {
      const backend = createMemoryBackend({ config: backendConfig(options), log: recordingLogger(), metrics: new Metrics() });
      made.push(backend);
      return backend;
    },
    async reset() {
      await Promise.all(made.splice(0).map((backend) => backend.close()));
    },
    tearDown: async () => undefined,
  };
}

/** A Redis command client with the server's own options. */
export function redisClient(url: string): Redis {
  const client = new Redis(url, { ...REDIS_CLIENT_OPTIONS, lazyConnect: false });
  client.on('error', () => undefined);
  return client;
}

export async function connected(client: Redis): Promise<Redis> {
  await eventually(() => client.status === 'ready', 10_000, 'the Redis client to connect');
  return client;
}

export function redisFactory(): BackendFactory & { redis(): TestRedis } {
  let server: TestRedis | undefined;
  const made: Array<{ backend: Backend; client: Redis }> = [];
  const redis = (): TestRedis => {
    if (!server) throw new Error('redisFactory: setUp() was not run');
    return server;
  };
  return {
    name: 'redis',
    redis,
    async setUp() {
      server = await startRedis();
    },
    async create(options = {}) {
      const client = await connected(redisClient(redis().url));
      const config = backendConfig(options, { redisUrl: redis().url });
      const backend = await createRedisBackend(
        { config, log: recordingLogger(), metrics: new Metrics(), redis: client },
        options.presenceTiming ? { presenceTiming: options.presenceTiming } : {},
      );
      made.push({ backend, client });
      return backend;
    },
    async reset() {
      for (const { backend, client } of made.splice(0)) {
        await backend.close();
        client.disconnect();
      }
      // Our own private server: flushing it is how a test starts clean.
      const admin = await connected(redisClient(redis().url));
      await admin.flushall();
      admin.disconnect();
    },
    async tearDown() {
      await server?.stop();
      server = undefined;
    },
  };
}

/** A channel that records what the layer hands it. */
export class RecordingChannel implements Channel {
  readonly events: GroupEvent[] = [];
  resyncs = 0;
  constructor(readonly name: string) {}

  deliver(event: GroupEvent): void {
    this.events.push(event);
  }

  resync(): void {
    this.resyncs += 1;
  }

  /** Frames of events of `type`, parsed. */
  frames(type: string): Array<Record<string, unknown>> {
    return this.events.filter((event) => event.type === type).map((event) => JSON.parse(event.frame) as Record<string, unknown>);
  }
}
