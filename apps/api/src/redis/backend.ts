import { randomBytes } from 'node:crypto';
import type { Backend, BackendContext } from '../backend.js';
import type { Cluster } from 'ioredis';
import { isCluster, keepNodesConnected, watchConnection, whenReady } from './client.js';
import { RedisRoomHistory } from './history.js';
import { renameUntaggedRoomKeys } from './key-layout.js';
import { isOutOfMemory } from '../backend-errors.js';
import { nodeReadyProbeKey } from './keys.js';
import { RedisChannelLayer } from './layer.js';
import { RedisPresence, type PresenceTiming } from './presence.js';
import { RedisRateLimiter } from './rate-limiter.js';
import { RedisRoomRegistry } from './room-registry.js';
import { RedisReadStore } from './reads.js';
import { defineScripts } from './scripts.js';

/** Another client of the same cluster, with the same options, named; `sharded` for SSUBSCRIBE. */
function duplicateCluster(cluster: Cluster, connectionName: string, sharded: boolean): Cluster {
  const duplicate = cluster.duplicate(undefined, {
    ...(sharded ? { shardedSubscribers: true } : {}),
    redisOptions: { ...cluster.options.redisOptions, connectionName },
  });
  keepNodesConnected(duplicate);
  return duplicate;
}

export interface RedisBackendOptions {
  /** Presence expiry and upkeep periods; tests shorten them. */
  presenceTiming?: PresenceTiming;
}

/**
 * The distributed backend: every node sharing one Redis, or one Redis Cluster, is one cluster
 * of Roomcast nodes. It uses the command client it is given (`app.redis`, shared with accounts
 * and sessions) and opens two more clients of its own, which it closes: one for subscriptions,
 * one for bulk history reads (resumes, catch-ups, history pages), so that a large reply never
 * queues in front of a publish. The command client is its owner's. On a cluster each of these is
 * a cluster client (a connection per master it needs); the code above them is the same.
 */
export async function createRedisBackend(context: BackendContext, options: RedisBackendOptions = {}): Promise<Backend> {
  const { config, log, metrics, redis } = context;
  if (!redis) throw new Error('The Redis backend needs a Redis client (REDIS_URL or REDIS_CLUSTER_NODES)');
  defineScripts(redis);
  // In the background: on a large Redis the first SCAN may outlast the start-up timeout, and rooms
  // not renamed yet only read empty for that while.
  if (!isCluster(redis)) renameUntaggedRoomKeys(redis, log).catch((error: unknown) => log.warn({ err: error }, 'rooms written before hash-tagged keys not renamed; the next start tries again'));
  const nodeId = randomBytes(6).toString('hex');
  const subscriber = isCluster(redis)
    ? duplicateCluster(redis, `roomcast-sub-${nodeId}`, true)
    : redis.duplicate({ autoResubscribe: false, connectionName: `roomcast-sub-${nodeId}` });
  watchConnection(subscriber, 'subscriber', log);

  const reader = isCluster(redis) ? duplicateCluster(redis, `roomcast-reads-${nodeId}`, false) : redis.duplicate({ connectionName: `roomcast-reads-${nodeId}` });
  watchConnection(reader, 'history reads', log);
  defineScripts(reader);
  const rooms = new RedisRoomRegistry(redis, log);
  const history = new RedisRoomHistory(redis, config.historyLimit, log, config.roomIdleTtlMs, reader, config.redisWaitReplicas, rooms);

  let layer: RedisChannelLayer;
  try {
    layer = await RedisChannelLayer.create({ redis, subscriber, nodeId, log, metrics, newestId: (room) => history.newestId(room) });
  } catch (error) {
    subscriber.disconnect();
    reader.disconnect();
    throw error;
  }
  try {
    await whenReady(reader, `${isCluster(redis) ? 'REDIS_CLUSTER_NODES' : 'REDIS_URL'}: the history-reads connection to Redis did not open`);
  } catch (error) {
    await layer.close();
    throw error;
  }
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
