import type {} from '@fastify/redis';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { createBackend } from '../backend.js';
import { Metrics } from '../metrics.js';
import { Publisher } from '../rooms/publisher.js';
import { recordPosters } from '../reads/posters.js';
import '../types.js';

/**
 * Decorates the app with its backend, metrics and publisher, and closes the backend last. With
 * REDIS_URL, `app.redis` is the Redis command client (@fastify/redis, no key prefix), shared by
 * the backend and by accounts and sessions; it closes after the backend, which needs it to say
 * goodbye (onClose hooks run in reverse order of registration).
 */
export default fp(
  async (app) => {
    const { redisUrl } = app.config;
    if (redisUrl !== undefined) {
      const [{ default: fastifyRedis }, { connectRedis }] = await Promise.all([import('@fastify/redis'), import('../redis/client.js')]);
      // Connected here, with a bounded wait and an error naming REDIS_URL, then handed over.
      const client = await connectRedis(redisUrl, app.log);
      await app.register(fastifyRedis, { client, closeClient: true });
    }
    const metrics = new Metrics();
    const backend = await createBackend({
      config: app.config,
      log: app.log,
      metrics,
      ...(redisUrl === undefined ? {} : { redis: app.redis }),
    });
    app.decorate('metrics', metrics);
    app.decorate('backend', backend);
    const publisher = new Publisher(backend.history, metrics);
    app.decorate('publisher', publisher);
    recordPosters(publisher, backend.reads, app.log);
    const sweeper = sweepIdleRooms(app);
    app.addHook('onClose', async () => {
      clearInterval(sweeper);
      await backend.close();
    });
  },
  { name: 'roomcast-backend', fastify: '5.x' },
);

/**
 * Every `roomSweepMs`: the rooms with a socket on this node restart their idle clock (so an
 * occupied room never expires), then the embedded backend drops rooms idle past
 * `ROOM_IDLE_TTL` (on Redis the room's keys expire by themselves).
 */
function sweepIdleRooms(app: FastifyInstance): NodeJS.Timeout {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const occupied = [...new Set([...app.consumers].map((consumer) => consumer.room))];
    app.backend.history
      .touch(occupied)
      .then(() => app.backend.history.forgetIdle())
      .then((forgotten) => {
        if (forgotten > 0) app.log.debug({ forgotten }, 'forgot idle rooms');
      })
      .catch((error: unknown) => app.log.warn({ err: error }, 'idle rooms not swept'))
      .finally(() => {
        running = false;
      });
  }, app.config.roomSweepMs);
  timer.unref();
  return timer;
}
