import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { createMemoryBackend, type Backend } from '../src/backend.js';
import { testConfig, type Config } from '../src/config.js';
import type { Channel, GroupEvent } from '../src/layer/channel-layer.js';
import { Metrics } from '../src/metrics.js';
import { createRedisBackend } from '../src/redis/backend.js';
import { REDIS_CLIENT_OPTIONS, clusterClient, whenReady, type RedisClient } from '../src/redis/client.js';
import type { PresenceTiming } from '../src/redis/presence.js';
import { eventually, startRedis, startRedisCluster, type TestRedis, type TestRedisCluster } from './helpers.js';

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

/** A factory of backends on Redis, with a command client of its own for assertions on keys. */
export interface RedisBackendFactory extends BackendFactory {
  /** A connected command client of the factory's Redis (or cluster); the caller disconnects it. */
  admin(): Promise<RedisClient>;
}

/**
 * Redis backends, each on a command client of its own from `connect`, and their closing: what the
 * Redis and the cluster factory share; they differ only in the client and the config's Redis.
 */
function redisBackends(connect: () => Promise<RedisClient>): {
  create(options: BackendOptions, redis: Partial<Config>): Promise<Backend>;
  closeAll(): Promise<void>;
} {
  const made: Array<{ backend: Backend; client: RedisClient }> = [];
  return {
    async create(options, redis) {
      const client = await connect();
      const config = backendConfig(options, redis);
      const backend = await createRedisBackend(
        { config, log: recordingLogger(), metrics: new Metrics(), redis: client },
        options.presenceTiming ? { presenceTiming: options.presenceTiming } : {},
      );
      made.push({ backend, client });
      return backend;
    },
    async closeAll() {
      for (const { backend, client } of made.splice(0)) {
        await backend.close();
        client.disconnect();
      }
    },
  };
}

export function redisFactory(): RedisBackendFactory & { redis(): TestRedis } {
  let server: TestRedis | undefined;
  const made = redisBackends(async () => connected(redisClient(redis().url)));
  const redis = (): TestRedis => {
    if (!server) throw new Error('redisFactory: setUp() was not run');
    return server;
  };
  return {
    name: 'redis',
    redis,
    admin: async () => connected(redisClient(redis().url)),
    async setUp() {
      server = await startRedis();
    },
    create: (options = {}) => made.create(options, { redisUrl: redis().url }),
    async reset() {
      await made.closeAll();
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

/** A command client of a test cluster with the server's own options, once it answers. */
export async function clusterCommandClient(cluster: TestRedisCluster): Promise<RedisClient> {
  const client = clusterClient(cluster.seeds, { connectionName: 'roomcast-test' });
  client.on('error', () => undefined);
  return whenReady(client, 'the test Redis Cluster did not answer');
}

/**
 * Backends on a Redis Cluster of 3 masters and 3 replicas (startRedisCluster), the third
 * implementation the shared suites run against. Starting a cluster takes seconds, so setUp and
 * tearDown count their callers: a test file holds one reference for all its suites (one cluster
 * per file), each suite another.
 */
export function clusterFactory(): RedisBackendFactory & { cluster(): TestRedisCluster } {
  let server: TestRedisCluster | undefined;
  let starting: Promise<TestRedisCluster> | undefined;
  let holders = 0;
  const made = redisBackends(async () => clusterCommandClient(cluster()));
  const cluster = (): TestRedisCluster => {
    if (!server) throw new Error('clusterFactory: setUp() was not run');
    return server;
  };
  return {
    name: 'redis cluster',
    cluster,
    admin: async () => clusterCommandClient(cluster()),
    async setUp() {
      holders += 1;
      server = await (starting ??= startRedisCluster());
    },
    create: (options = {}) => made.create(options, { redisClusterNodes: cluster().seeds }),
    async reset() {
      await made.closeAll();
      await cluster().flush();
    },
    async tearDown() {
      holders -= 1;
      if (holders > 0) return;
      await server?.stop();
      server = undefined;
      starting = undefined;
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
