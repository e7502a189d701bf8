import websocket from '@fastify/websocket';
import { CLOSE, MAX_BODY_BYTES, MAX_FRAME_BYTES, SUBPROTOCOL } from '@roomcast/protocol';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import pinoPretty from 'pino-pretty';
import type { Config } from './config.js';
import type { RoomConsumer } from './consumers/room-consumer.js';
import { installErrorHandlers } from './errors.js';
import backendPlugin from './plugins/backend.js';
import openapi from './plugins/openapi.js';
import networkEdge, { edgeServerOptions } from './plugins/network-edge.js';
import identityPlugin from './plugins/identity.js';
import roomsPlugin from './plugins/rooms.js';
import djangoPlugin, { type DjangoPluginOptions } from './plugins/django.js';
import securityHeaders from './plugins/security-headers.js';
import sessionPlugin from './plugins/session.js';
import { lazyChildLogger } from './lazy-child-logger.js';
import staticPlugin from './plugins/static.js';
import authRoutes from './routes/auth.js';
import chatSocketRoutes from './routes/chat-socket.js';
import healthRoutes from './routes/health.js';
import roomRoutes from './routes/rooms.js';
import roomAdminRoutes from './routes/room-admin.js';
import moderationRoutes from './routes/moderation.js';
import messageRoutes from './routes/messages.js';
import readRoutes from './routes/reads.js';
import './types.js';

export type { Config } from './config.js';
export { loadConfig, testConfig, ConfigError } from './config.js';

export interface BuildOptions {
  /** Where log lines go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
  /** Options of the Django Channels bridge (tests shorten its periods). */
  django?: DjangoPluginOptions;
}

/** How long shutdown waits for sockets to finish their close handshake before cutting them. */
const SOCKET_CLOSE_GRACE_MS = 3000;

/** Cookies, credentials and keys never reach a log line. */
export const LOG_REDACT = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  'headers.cookie',
  'headers.authorization',
  'headers["set-cookie"]',
  'password',
  '*.password',
  'passwordHash',
  '*.passwordHash',
  'sessionId',
  '*.sessionId',
  'cookies',
  '*.cookies',
  // ioredis errors carry their command's arguments: session IDs in keys, account records.
  'err.command.args',
];

/** A connection token in a socket URL (`?token=JWT`) is a credential: logged as `[redacted]`. */
export const redactUrl = (url: string): string => url.replace(/([?&]token=)[^&#]*/g, '$1[redacted]');

/**
 * The pino options of an app (and of the WORKERS primary): redacted, and at a terminal readable
 * lines (pino-pretty, written synchronously so nothing is lost at exit) instead of JSON.
 */
export function loggerOptions(config: Config, options: BuildOptions = {}): FastifyServerOptions['logger'] {
  const stream =
    options.logStream ??
    (config.logFormat === 'pretty' ? pinoPretty({ sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }) : undefined);
  return {
    level: config.logLevel,
    redact: { paths: LOG_REDACT, censor: '[redacted]' },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        url: redactUrl(request.url),
        host: request.host,
        remoteAddress: request.ip,
        remotePort: request.socket?.remotePort,
      }),
    },
    ...(stream ? { stream } : {}),
  };
}

/**
 * Builds the whole Roomcast app for `config`. It never listens: `server.ts` does, and tests call
 * `listen({ port: 0 })` on as many apps as they need nodes.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(config, options),
    bodyLimit: MAX_BODY_BYTES,
    ...edgeServerOptions(config),
    routerOptions: { ignoreTrailingSlash: true },
    // No type coercion: a number is not a message. Query strings are declared as the strings they are.
    ajv: { customOptions: { coerceTypes: false } },
    // Per-request lines only when debugging: at chat volumes they would drown the rest.
    childLoggerFactory: lazyChildLogger,
    logController: new LogController({ disableRequestLogging: config.logLevel !== 'debug' && config.logLevel !== 'trace' }),
  });
  app.decorate('config', config);
  app.decorate('consumers', new Set<RoomConsumer>());
  installErrorHandlers(app);

  await app.register(securityHeaders);
  // Before any route: it collects them as they are added.
  await app.register(openapi);
  await app.register(backendPlugin);
  await app.register(djangoPlugin, options.django ?? {});
  await app.register(sessionPlugin);
  await app.register(identityPlugin);
  await app.register(roomsPlugin);
  await app.register(websocket, {
    options: {
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      // `roomcast.v1` when offered (every frame); otherwise none: the Django tutorial's page, which
      // gets only what carries a `message`.
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    },
    // A socket that errors (a client vanishing mid-frame) is cut; its close handler leaves the room.
    errorHandler: (error, socket, request) => {
      request.log.debug({ err: error }, 'socket error');
      socket.terminate();
    },
    // Graceful shutdown: every socket hears 1012 (reconnect elsewhere) and leaves its room first.
    preClose(done) {
      void closeSockets(app).then(() => done());
    },
  });

  // After @fastify/websocket: its onRequest hook marks upgrades, so a refused one is cut once answered.
  await app.register(networkEdge);
  await app.register(healthRoutes);
  await app.register(authRoutes);
  await app.register(roomRoutes);
  await app.register(roomAdminRoutes);
  await app.register(moderationRoutes);
  await app.register(messageRoutes);
  await app.register(readRoutes);
  await app.register(chatSocketRoutes);
  if (config.webRoot !== undefined) await app.register(staticPlugin, { root: config.webRoot });
  return app;
}

async function closeSockets(app: FastifyInstance): Promise<void> {
  const leaving = [...app.consumers].map((consumer) => {
    consumer.close(CLOSE.restarting, 'server restarting');
    return consumer.disconnect();
  });
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SOCKET_CLOSE_GRACE_MS);
  });
  await Promise.race([Promise.allSettled(leaving), grace]);
  clearTimeout(timer);
  for (const client of app.websocketServer.clients) client.terminate();
  await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
}
