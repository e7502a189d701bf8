import type { FastifyBaseLogger } from 'fastify';
import { usesRedis, type Config } from './config.js';
import type { RoomHistory } from './history/room-history.js';
import { MemoryRoomHistory } from './history/memory.js';
import type { ChannelLayer } from './layer/channel-layer.js';
import { MemoryChannelLayer } from './layer/memory.js';
import { MemoryRateLimiter, type RateLimiter } from './limits/rate-limiter.js';
import type { Metrics } from './metrics.js';
import { MemoryPresence } from './presence/memory.js';
import type { Presence } from './presence/presence.js';
import type { RedisClient } from './redis/client.js';
import { MemoryRoomRegistry } from './registry/memory.js';
import type { RoomRegistry } from './registry/room-registry.js';
import { MemoryReadStore } from './reads/memory.js';
import type { ReadStore } from './reads/read-store.js';

export type BackendKind = 'memory' | 'redis';

/** Everything that is shared state: one implementation set per backend, chosen at start-up. */
export interface Backend {
  readonly kind: BackendKind;
  /** This node's ID, unique in the cluster (channel names, presence entries, `/metrics`). */
  readonly nodeId: string;
  readonly layer: ChannelLayer;
  readonly history: RoomHistory;
  readonly presence: Presence;
  readonly limiter: RateLimiter;
  /** Claimed rooms: owners, members, bans, invites, slow mode, audit, the directory. */
  readonly rooms: RoomRegistry;
  /** Read positions and room readers (unread counts, mentions). */
  readonly reads: ReadStore;
  /**
   * Whether the backend can take writes now (`/readyz`): `ready`, or why not. A Redis that
   * answers PING but is out of memory refuses every publish, so it is not ready.
   */
  ready(): Promise<true | string>;
  close(): Promise<void>;
}

export interface BackendContext {
  config: Config;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** The Redis command client (`app.redis`: one Redis or a cluster); required by the Redis backend. */
  redis?: RedisClient;
}

export function createMemoryBackend({ config, log, metrics }: BackendContext): Backend {
  const layer = new MemoryChannelLayer(metrics);
  const presence = new MemoryPresence(layer, { intervalMs: config.presenceIntervalMs, listMax: config.presenceListMax }, log);
  const rooms = new MemoryRoomRegistry(() => presence.rooms());
  const history = new MemoryRoomHistory(layer, config.historyLimit, { idleTtlMs: config.roomIdleTtlMs, claimed: rooms });
  const limiter = new MemoryRateLimiter();
  const reads = new MemoryReadStore();
  return {
    kind: 'memory',
    nodeId: layer.nodeId,
    layer,
    history,
    presence,
    limiter,
    rooms,
    reads,
    ready: async () => true,
    async close() {
      await Promise.all([history.close(), presence.close(), limiter.close(), rooms.close(), reads.close()]);
      await layer.close();
    },
  };
}

/** The backend `config` asks for: Redis when REDIS_URL or REDIS_CLUSTER_NODES is set, the embedded one otherwise. */
export async function createBackend(context: BackendContext): Promise<Backend> {
  if (!usesRedis(context.config)) return createMemoryBackend(context);
  const { createRedisBackend } = await import('./redis/backend.js');
  return createRedisBackend(context);
}
