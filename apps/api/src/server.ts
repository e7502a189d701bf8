#!/usr/bin/env node
import cluster from 'node:cluster';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildApp, loggerOptions } from './app.js';
import { joinClusterMetrics, serveClusterMetrics, type WorkerMetrics } from './cluster-metrics.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { processRegistry } from './metrics.js';

/** Shutdown must finish within this, or the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 10_000;
/** A worker that died is replaced after this, so a worker that cannot start does not spin. */
const RESPAWN_DELAY_MS = 1000;

const builtWeb = fileURLToPath(new URL('../../web/dist', import.meta.url));

function readConfig(): Config {
  try {
    return loadConfig(process.env, { tty: process.stdout.isTTY === true, ...(existsSync(builtWeb) ? { webRoot: builtWeb } : {}) });
  } catch (error) {
    if (error instanceof ConfigError) {
      // No logger exists yet: one plain line naming the variable, then a failing exit.
      process.stderr.write(`roomcast: bad configuration: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
}

function describeBackend(config: Config): string {
  if (config.redisClusterNodes !== undefined) return `Redis backend on a Redis Cluster (seeds ${config.redisClusterNodes.join(',')})`;
  if (config.redisUrl === undefined) return 'embedded in-memory backend (single process; set REDIS_URL to cluster)';
  const url = new URL(config.redisUrl);
  return `Redis backend at ${url.protocol}//${url.host}${url.pathname}`;
}

/** Stops accepting, closes every socket with 1012, finishes in-flight work, exits. */
function handleSignals(app: FastifyInstance): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: closing sockets with 1012');
    const deadline = setTimeout(() => {
      app.log.error('shutdown took too long; exiting anyway');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    deadline.unref();
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * Connections the kernel holds for us while the event loop is busy (capped by
 * net.core.somaxconn). Node's default of 511 overflowed in a reconnect storm: 10,000 clients
 * coming back within seconds had their handshakes dropped and retried by TCP after 1, 3, 7, 15
 * and 31 s, and 2,690 of them gave up after 30 s before the node had even seen them.
 */
export const LISTEN_BACKLOG = 4096;

export async function main(config: Config = readConfig(), workerMetrics?: WorkerMetrics): Promise<FastifyInstance> {
  const app = await buildApp(config);
  if (workerMetrics) {
    workerMetrics.offer(app.metrics.registries());
    app.metrics.aggregateWith(workerMetrics.scrape);
  }
  app.log.info(`Roomcast starting on the ${describeBackend(config)}`);
  if (config.sessionSecretGenerated) {
    app.log.warn('SESSION_SECRET is not set: using a random secret, so sessions end when this process stops');
  }
  handleSignals(app);
  await app.listen({ port: config.port, host: config.host, backlog: LISTEN_BACKLOG });
  app.log.info(`Roomcast ready at http://${config.host}:${app.server.address() && typeof app.server.address() === 'object' ? (app.server.address() as { port: number }).port : config.port}`);
  return app;
}

/**
 * WORKERS > 1 (Redis only): this process forks the workers and watches them. Each worker runs
 * `main()` on the same port (node:cluster hands out connections) and they share rooms through
 * Redis like any other nodes. A worker that dies is replaced; SIGTERM stops them all gracefully.
 */
function runPrimary(config: Config): void {
  // The primary runs no app; a bare Fastify instance lends it the workers' pino logger.
  const log = Fastify({ logger: loggerOptions(config) }).log;
  // One secret for every worker, or a session made on one would be refused by the others.
  const env = config.sessionSecretGenerated ? { SESSION_SECRET: config.sessionSecret } : {};
  if (config.sessionSecretGenerated) {
    log.warn('SESSION_SECRET is not set: using a random secret, so sessions end when this process stops');
  }
  let running = 0;
  let stopping = false;
  const fork = (): void => {
    running += 1;
    cluster.fork(env);
  };
  cluster.on('exit', (worker, code, signal) => {
    running -= 1;
    if (stopping) {
      if (running === 0) process.exit(0);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, 'worker died; starting another');
    setTimeout(fork, RESPAWN_DELAY_MS);
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down: stopping the workers');
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS + 1000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  serveClusterMetrics();
  log.info(`Roomcast starting ${config.workers} workers on the ${describeBackend(config)}`);
  for (let n = 0; n < config.workers; n += 1) fork();
}

const config = readConfig();
if (config.workers > 1 && cluster.isPrimary) {
  runPrimary(config);
} else {
  // A worker of ours answers the primary's metrics requests from its first moment.
  let workerMetrics: WorkerMetrics | undefined;
  if (config.workers > 1 && cluster.isWorker) {
    workerMetrics = joinClusterMetrics();
    workerMetrics.offer([processRegistry()]);
  }
  main(config, workerMetrics).catch((error: unknown) => {
    process.stderr.write(`roomcast: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
