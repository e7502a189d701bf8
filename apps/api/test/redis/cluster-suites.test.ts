import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisAccountStore, RedisSessionStore } from '../../src/accounts/redis.js';
import { storeSuite } from '../accounts/store-suite.js';
import type { RedisClient } from '../../src/redis/client.js';
import { clusterFactory } from '../backends.js';
import { changesSuite } from '../history/changes-suite.js';
import { historySuite } from '../history/history-suite.js';
import { layerSuite } from '../layer/layer-suite.js';
import { rateLimiterSuite } from '../limits/rate-limiter-suite.js';
import { presenceSuite } from '../presence/presence-suite.js';
import { readStoreSuite } from '../reads/read-store-suite.js';
import { registrySuite } from '../registry/registry-suite.js';
import { idempotencySuite } from './idempotency-suite.js';
import {
  groupChannel,
  idempotencyKey,
  nodeAliveKey,
  nodeMembersKey,
  roomAuditKey,
  roomBansKey,
  roomDeletedKey,
  roomInviteKey,
  roomMembersKey,
  roomMetaKey,
  roomPresenceKey,
  roomReadersKey,
  roomSlowModeKey,
  roomStateKey,
  roomStreamKey,
  roomTrimmedKey,
} from '../../src/redis/keys.js';
import { roomGroup } from '../../src/layer/channel-layer.js';

/**
 * The shared suites on a Redis Cluster of 3 masters and 3 replicas: the third backend. One
 * cluster serves every suite of this file (this file holds a reference to it throughout).
 */
const factory = clusterFactory();
beforeAll(() => factory.setUp(), 90_000);
afterAll(() => factory.tearDown());

layerSuite(factory);
historySuite(factory);
changesSuite(factory);
presenceSuite(factory);
rateLimiterSuite(factory);
idempotencySuite(factory);
readStoreSuite(factory);
registrySuite(factory);
describe('Redis Cluster account and session stores', () => {
  let client: RedisClient;
  beforeAll(async () => {
    client = await factory.admin();
  });
  afterAll(() => client.disconnect());
  storeSuite('Redis Cluster', {
    // The cluster is this file's own: flushing it touches nothing else.
    start: async () => {
      await factory.cluster().flush();
      return { accounts: new RedisAccountStore(client), sessions: new RedisSessionStore(client) };
    },
    stop: async (stores) => stores.sessions.close(),
  });
});

describe('key layout on a Redis Cluster', () => {
  it('puts every key and the channel of a room in one slot, and a node’s keys in one slot', async () => {
    const admin = await factory.admin();
    try {
      // Redis's own answer (CLUSTER KEYSLOT), not a re-implementation of its hash.
      const slot = async (key: string): Promise<number> => Number(await admin.call('CLUSTER', 'KEYSLOT', key));
      const slotsOf = async (keys: string[]) => new Set(await Promise.all(keys.map(slot)));
      const rooms = ['lobby', 'a-b_c', 'x'.repeat(64)];
      for (const room of rooms) {
        const keys = [
          roomStreamKey(room),
          roomTrimmedKey(room),
          roomStateKey(room),
          roomDeletedKey(room),
          roomReadersKey(room),
          roomPresenceKey(room),
          roomMetaKey(room),
          roomMembersKey(room),
          roomBansKey(room),
          roomInviteKey(room, 'token'),
          roomSlowModeKey(room, 'alice'),
          roomAuditKey(room),
          idempotencyKey(room, 'nonce:x:{y}:z'),
          groupChannel(roomGroup(room)),
        ];
        expect((await slotsOf(keys)).size).toBe(1);
      }
      expect((await slotsOf(rooms.map(roomStreamKey))).size).toBe(3);
      expect((await slotsOf([nodeAliveKey('n1'), nodeMembersKey('n1')])).size).toBe(1);
    } finally {
      admin.disconnect();
    }
  });
});
