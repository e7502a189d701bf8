import { randomBytes } from 'node:crypto';
import fp from 'fastify-plugin';
import type { DjangoTiming } from '../django/bridge.js';
import { djangoClusterKey } from '../redis/keys.js';
import '../types.js';

export interface DjangoPluginOptions {
  /** Shorter loop periods for tests. */
  timing?: Partial<DjangoTiming>;
}

/**
 * The Django Channels bridge, when DJANGO_CHANNEL_LAYER is set: decorates `app.django` (null
 * when off) and closes it before the backend, so queued messages can still reach Django.
 */
export default fp<DjangoPluginOptions>(
  async (app, { timing }) => {
    const config = app.config.django;
    if (config === undefined) {
      app.decorate('django', null);
      return;
    }
    const { DjangoBridge } = await import('../django/bridge.js');
    const { backend } = app;
    const bridge = new DjangoBridge({
      config,
      clusterId: backend.kind === 'redis' ? await sharedClusterId(app.redis) : backend.nodeId,
      nodeId: backend.nodeId,
      publisher: app.publisher,
      presence: backend.presence,
      rooms: backend.rooms,
      metrics: app.metrics,
      log: app.log.child({ bridge: 'django' }),
      leaveOnClose: backend.kind === 'memory',
      ...(timing ? { timing } : {}),
    });
    app.log.info({ layer: config.layer, group: `${config.groupPrefix}ROOM`, channel: bridge.channelOf('ROOM') }, 'Django Channels bridge on');
    app.decorate('django', bridge);
    app.addHook('onClose', async () => bridge.close());
  },
  { name: 'roomcast-django', fastify: '5.x', dependencies: ['roomcast-backend'] },
);

/** One ID for every node sharing the Redis backend: the first node makes it, the others read it. */
async function sharedClusterId(redis: import('../redis/client.js').RedisClient): Promise<string> {
  await redis.set(djangoClusterKey, randomBytes(6).toString('hex'), 'NX');
  const id = await redis.get(djangoClusterKey);
  if (id === null) throw new Error('Redis lost the Django cluster ID just written');
  return id;
}
