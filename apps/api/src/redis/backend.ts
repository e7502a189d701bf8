import { randomBytes } from 'node:crypto';
import type { Backend, BackendContext } from '../backend.js';
import { watchConnection, whenReady } from './client.js';
import { RedisRoomHistory } from './history.js';
import { isOutOfMemory } from '../backend-errors.js';
import { nodeReadyProbeKey } from './keys.js';
import { RedisChannelLayer } from './layer.js';
import { RedisPresence, type PresenceTiming } from './presence.js';
import { RedisRateLimiter } from './rate-limiter.js';
import { RedisRoomRegistry } from './room-registry.js';
import { RedisReadStore } from './reads.js';
import { defineScripts } from './scripts.js';

export interface RedisBackendOptions {
  /** Presence expiry and upkeep periods; tests shorten them. */
  presenceTiming?: PresenceTiming;
}

/**
 * The distributed backend: every node sharing one Redis is one cluster. It uses the command
 * client it is given (`app.redis`, shared with accounts and sessions) and opens two more
 * connections of its own, which it closes: one for subscriptions, one for bulk history reads
 * (resumes, catch-ups, history pages), so that a large reply never queues in front of a publish.
 * The command client is its owner's.
 */
export async function createRedisBackend(context: BackendContext, options: RedisBackendOptions = {}): Promise<Backend> {
  const { config, log, metrics, redis } = context;
  if (!redis) throw new Error('The Redis backend needs a Redis client (REDIS_URL)');
  defineScripts(redis);
  const nodeId = randomBytes(6).toString('hex');
  const subscriber = redis.duplicate({ autoResubscribe: false, connectionName: `roomcast-sub-${nodeId}` });
  watchConnection(subscriber, 'subscriber', log);

  let layer: RedisChannelLayer;
  try {
    layer = await RedisChannelLayer.create({ redis, subscriber, nodeId, log, metrics });
  } catch (error) {
    subscriber.disconnect();
    throw error;
  }
  const reader = redis.duplicate({ connectionName: `roomcast-reads-${nodeId}` });
  watchConnection(reader, 'history reads', log);
  defineScripts(reader);
  try {
    await whenReady(reader, 'REDIS_URL: the history-reads connection to Redis did not open');
  } catch (error) {
    await layer.close();
    throw error;
  }
  const rooms = new RedisRoomRegistry(redis, log);
  const history = new RedisRoomHistory(redis, config.historyLimit, log, config.roomIdleTtlMs, reader, rooms);
  const presence = await RedisPresence.create({
    redis,
    nodeId,
    log,
    announce: { intervalMs: config.presenceIntervalMs, listMax: config.presenceListMax },
    ...(options.presenceTiming ? { timing: options.presenceTiming } : {}),
  });
  const limiter = new RedisRateLimiter(redis, log);
  const reads = new RedisReadStore(redis, config.roomIdleTtlMs, rooms);
  layer.onRecovered(() => {
    presence.reannounce().catch((error: unknown) => log.warn({ err: error }, 'presence not announced after reconnecting'));
  });

  return {
    kind: 'redis',
    nodeId,
    layer,
    history,
    presence,
    limiter,
    rooms,
    reads,
    async ready() {
      if (!layer.isLive()) return 'the Redis subscription is down';
      // A tiny write, not a PING: at maxmemory with noeviction Redis still answers PING but
      // refuses every publish, registration and login.
      try {
        await redis.set(nodeReadyProbeKey(nodeId), '1', 'PX', 10_000);
      } catch (error) {
        return isOutOfMemory(error) ? 'Redis is out of memory (maxmemory reached)' : 'Redis does not answer';
      }
      return true;
    },
    async close() {
      await presence.close();
      await Promise.all([history.close(), limiter.close(), rooms.close()]);
      await layer.close();
      await reader.quit().catch(() => reader.disconnect());
    },
  };
}
