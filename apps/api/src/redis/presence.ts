import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { roomGroup } from '../layer/channel-layer.js';
import { summarize, type Presence, type PresenceName, type RoomOnline, type RoomPresence } from '../presence/presence.js';
import {
  ONLINE_ROOMS_KEY,
  PRESENCE_NODES_KEY,
  groupChannel,
  nodeAliveKey,
  nodeMembersKey,
  roomPresenceKey,
} from './keys.js';
import './scripts.js';

export interface PresenceTiming {
  /** How long a node's alive key lasts without a heartbeat. */
  ttlMs: number;
  /** How often a node refreshes its alive key. */
  heartbeatMs: number;
  /** How often a node looks for dead nodes and removes their members. */
  sweepMs: number;
}

/** A node killed without a goodbye leaves every presence list within ttl + sweep (20 s). */
export const PRESENCE_TIMING: PresenceTiming = { ttlMs: 15_000, heartbeatMs: 5_000, sweepMs: 5_000 };

export interface RedisPresenceOptions {
  redis: Redis;
  nodeId: string;
  log: FastifyBaseLogger;
  timing?: PresenceTiming;
}

/**
 * Presence across nodes that heals. Each room is a hash of its connections (channel name to
 * username); each node keeps an alive key with a short expiry, refreshed by a heartbeat, and a
 * set of its own entries. Every node sweeps: a node whose alive key has expired (killed, cut off)
 * has its entries removed and its rooms announced by the survivors. A node that finds its own
 * alive key gone (Redis restarted empty, or it was swept while cut off) adds its entries again.
 * Changes and announcements are single scripts, so a presence frame is never older than the
 * state it follows.
 */
export class RedisPresence implements Presence {
  /** This node's members: room to channel name to user, the truth a heal restores. */
  private readonly local = new Map<string, Map<string, string | null>>();
  private readonly timing: PresenceTiming;
  private readonly timers: NodeJS.Timeout[] = [];
  private heartbeating = false;
  private sweeping = false;

  private constructor(private readonly options: RedisPresenceOptions) {
    this.timing = options.timing ?? PRESENCE_TIMING;
  }

  /** A presence whose node is already marked alive, so that its first members are not swept. */
  static async create(options: RedisPresenceOptions): Promise<RedisPresence> {
    const presence = new RedisPresence(options);
    await presence.heartbeat();
    presence.every(presence.timing.heartbeatMs, () => presence.heartbeat());
    presence.every(presence.timing.sweepMs, () => presence.sweep());
    return presence;
  }

  async join(room: string, member: string, user: PresenceName): Promise<void> {
    let members = this.local.get(room);
    if (!members) {
      members = new Map();
      this.local.set(room, members);
    }
    // Recorded before the script runs: should its reply be lost, the next heal still knows it.
    members.set(member, user);
    await this.add(room, [[member, user]], true);
  }

  async leave(room: string, member: string): Promise<void> {
    const members = this.local.get(room);
    members?.delete(member);
    if (members?.size === 0) this.local.delete(room);
    await this.remove(this.options.nodeId, room, [member], false);
  }

  async get(room: string): Promise<RoomPresence> {
    const users = await this.options.redis.hvals(roomPresenceKey(room));
    return summarize(users.map((user) => (user === '' ? null : user)));
  }

  async rooms(): Promise<RoomOnline[]> {
    const flat = await this.options.redis.zrange(ONLINE_ROOMS_KEY, '0', '-1', 'WITHSCORES');
    const rooms: RoomOnline[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) rooms.push({ room: flat[i]!, online: Number(flat[i + 1]) });
    return rooms.sort((a, b) => b.online - a.online || a.room.localeCompare(b.room));
  }

  /**
   * Adds every local member again and announces every local room: after the layer lost events,
   * its sockets may have missed presence frames, and Redis may have lost entries.
   */
  async reannounce(): Promise<void> {
    await this.restore(true);
  }

  /** Stops the timers and says goodbye: this node's entries go and its rooms are announced. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    const { redis, nodeId, log } = this.options;
    try {
      for (const [room, members] of this.local) await this.remove(nodeId, room, [...members.keys()], false);
      this.local.clear();
      await redis.del(nodeAliveKey(nodeId));
      await redis.roomcastPresenceForgetNode(PRESENCE_NODES_KEY, nodeMembersKey(nodeId), nodeAliveKey(nodeId), nodeId);
    } catch (error) {
      log.warn({ err: error }, 'presence goodbye failed; the other nodes will sweep this one');
    }
  }

  private add(room: string, members: Array<[string, string | null]>, announce: boolean): Promise<number> {
    const { redis, nodeId } = this.options;
    const pairs = members.flatMap(([member, user]) => [member, user ?? '']);
    return redis.roomcastPresenceAdd(
      roomPresenceKey(room),
      ONLINE_ROOMS_KEY,
      nodeMembersKey(nodeId),
      PRESENCE_NODES_KEY,
      room,
      groupChannel(roomGroup(room)),
      nodeId,
      announce ? '1' : '0',
      ...pairs,
    );
  }

  private remove(node: string, room: string, members: string[], onlyIfDead: boolean): Promise<number> {
    return this.options.redis.roomcastPresenceRemove(
      roomPresenceKey(room),
      ONLINE_ROOMS_KEY,
      nodeMembersKey(node),
      nodeAliveKey(node),
      room,
      groupChannel(roomGroup(room)),
      onlyIfDead ? '1' : '0',
      ...members,
    );
  }

  /** Re-adds every local member; rooms are announced when something was missing, or always. */
  private async restore(announceAll: boolean): Promise<void> {
    for (const [room, members] of this.local) {
      if (members.size > 0) await this.add(room, [...members], announceAll);
    }
  }

  /** Refreshes the alive key; if it had expired or vanished, this node's entries are restored. */
  private async heartbeat(): Promise<void> {
    const { redis, nodeId, log } = this.options;
    if (this.heartbeating) return;
    this.heartbeating = true;
    try {
      const previous = await redis.set(nodeAliveKey(nodeId), '1', 'PX', this.timing.ttlMs, 'GET');
      if (previous === null && this.local.size > 0) {
        log.warn({ rooms: this.local.size }, 'this node was missing from presence; adding its members again');
        await this.restore(false);
      }
    } finally {
      this.heartbeating = false;
    }
  }

  /** Removes the entries of every node whose alive key is gone, announcing their rooms. */
  private async sweep(): Promise<void> {
    const { redis, nodeId } = this.options;
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      for (const node of await redis.smembers(PRESENCE_NODES_KEY)) {
        if (node === nodeId || (await redis.exists(nodeAliveKey(node))) === 1) continue;
        await this.evict(node);
      }
    } finally {
      this.sweeping = false;
    }
  }

  private async evict(node: string): Promise<void> {
    const { redis, log } = this.options;
    const byRoom = new Map<string, string[]>();
    for (const entry of await redis.smembers(nodeMembersKey(node))) {
      const bar = entry.indexOf('|');
      if (bar <= 0) continue;
      const room = entry.slice(0, bar);
      byRoom.set(room, [...(byRoom.get(room) ?? []), entry.slice(bar + 1)]);
    }
    let removed = 0;
    for (const [room, members] of byRoom) removed += await this.remove(node, room, members, true);
    await redis.roomcastPresenceForgetNode(PRESENCE_NODES_KEY, nodeMembersKey(node), nodeAliveKey(node), node);
    if (removed > 0) log.info({ node, removed, rooms: byRoom.size }, 'removed the presence of a node that stopped answering');
  }

  /** Runs `task` every `ms`; a failure (Redis away) is logged and the next tick tries again. */
  private every(ms: number, task: () => Promise<void>): void {
    const timer = setInterval(() => {
      task().catch((error: unknown) => this.options.log.debug({ err: error }, 'presence upkeep failed; retrying next tick'));
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }
}
