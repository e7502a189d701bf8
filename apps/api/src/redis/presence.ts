import type { FastifyBaseLogger } from 'fastify';
import type { RedisClient } from './client.js';
import { roomGroup } from '../layer/channel-layer.js';
import { PRESENCE_COPIES_PER_SECOND, PresenceAnnouncer, type AnnounceOptions } from '../presence/announcer.js';
import { presenceEvent, roomPresence, type Presence, type PresenceName, type RoomOnline, type RoomPresence } from '../presence/presence.js';
import { TurnBatch } from '../turn-batch.js';
import {
  ONLINE_ROOM_SHARDS,
  PRESENCE_NODES_KEY,
  groupChannel,
  onlineRoomShard,
  onlineRoomsKey,
  onlineVersionsKey,
  nodeAliveKey,
  nodeMembersKey,
  roomPresenceGateKey,
  roomPresenceKey,
  roomPresenceStatsKey,
  roomPresenceUsersKey,
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
  redis: RedisClient;
  nodeId: string;
  log: FastifyBaseLogger;
  announce: AnnounceOptions;
  timing?: PresenceTiming;
}

/**
 * Presence across nodes that heals. Each room is a hash of its connections (channel name to
 * username) with counts beside it (per user, anonymous), so a change is O(1) however big the
 * room; each node keeps an alive key with a short expiry, refreshed by a heartbeat, and a set of
 * its own entries. Every node sweeps: a node whose alive key has expired (killed, cut off) has
 * its entries removed and its rooms announced by the survivors. A node that finds its own alive
 * key gone (Redis restarted empty, or it was swept while cut off) adds its entries again.
 *
 * Nothing crosses a slot of a Redis Cluster: a room's counts change in one script on the room's
 * keys; the node's own list of entries (one slot per node) is written before an entry is added
 * and after it is removed, so a node killed in between leaves nothing the sweep cannot find; the
 * room directory is spread over ONLINE_ROOM_SHARDS keys and written after the room, a write
 * carrying the room's version so that no older state overwrites a newer one.
 *
 * Announcements are coalesced (PresenceAnnouncer) and gated in Redis so that a room gets at most
 * one frame per interval across the whole cluster; a frame is published only if the room has not
 * changed since it was read, so no frame arrives after a newer one.
 */
export class RedisPresence implements Presence {
  /** This node's members: room to channel name to user, the truth a heal restores. */
  private readonly local = new Map<string, Map<string, string | null>>();
  private readonly timing: PresenceTiming;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly announcer: PresenceAnnouncer;
  /** Joins of a room in one turn: one add (three round trips) for them all. */
  private readonly joins = new TurnBatch<[string, string | null], number>((room, members) => this.add(room, members, true));
  /** Leaves of a room in one turn (a shutdown closes every socket in one): one remove for them all. */
  private readonly leaves = new TurnBatch<string, void>(async (room, members) => {
    if ((await this.remove(this.options.nodeId, room, members, false)) > 0) this.announcer.changed(room);
  });
  /** Snapshots of a room asked in one turn, each after its caller joined: one read for them all. */
  private readonly snapshots = new TurnBatch<void, RoomPresence>((room) => this.readSnapshot(room));
  private heartbeating = false;
  private restoreAgain = false;
  private sweeping = false;

  private constructor(private readonly options: RedisPresenceOptions) {
    this.timing = options.timing ?? PRESENCE_TIMING;
    this.announcer = new PresenceAnnouncer(options.announce.intervalMs, (room) => this.announce(room, true), options.log);
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
    await this.joins.add(room, [member, user]);
  }

  async leave(room: string, member: string): Promise<void> {
    const members = this.local.get(room);
    members?.delete(member);
    if (members?.size === 0) this.local.delete(room);
    await this.leaves.add(room, member);
  }

  async get(room: string): Promise<RoomPresence> {
    const reply = await this.read(room, Number.MAX_SAFE_INTEGER, 0);
    return reply[0] === 1 ? toPresence(reply, Number.MAX_SAFE_INTEGER) : { users: [], guests: [], anonymous: 0 };
  }

  snapshot(room: string): Promise<RoomPresence> {
    return this.snapshots.add(room, undefined);
  }

  private async readSnapshot(room: string): Promise<RoomPresence> {
    const { listMax } = this.options.announce;
    const reply = await this.read(room, listMax, 0);
    return reply[0] === 1 ? toPresence(reply, listMax) : { users: [], guests: [], anonymous: 0 };
  }

  async rooms(): Promise<RoomOnline[]> {
    const { redis } = this.options;
    const shards = await Promise.all(Array.from({ length: ONLINE_ROOM_SHARDS }, (_, shard) => redis.zrange(onlineRoomsKey(shard), '0', '-1', 'WITHSCORES')));
    const rooms: RoomOnline[] = [];
    for (const flat of shards) for (let i = 0; i + 1 < flat.length; i += 2) rooms.push({ room: flat[i]!, online: Number(flat[i + 1]) });
    return rooms.sort((a, b) => b.online - a.online || a.room.localeCompare(b.room));
  }

  /**
   * Adds every local member again and announces every local room: after the layer lost events,
   * its sockets may have missed presence frames, and Redis may have lost entries.
   */
  async reannounce(): Promise<void> {
    await this.restore(true);
  }

  /** Stops the timers and says goodbye: this node's entries go and its rooms are announced at once. */
  async close(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.announcer.close();
    const { redis, nodeId, log } = this.options;
    try {
      for (const [room, members] of this.local) {
        if ((await this.remove(nodeId, room, [...members.keys()], false)) > 0) await this.announce(room, false);
      }
      this.local.clear();
      await redis.del(nodeAliveKey(nodeId));
      await this.forgetNode(nodeId);
    } catch (error) {
      log.warn({ err: error }, 'presence goodbye failed; the other nodes will sweep this one');
    }
  }

  /** Adds members; the room is announced when one was new, or always with `announce`. */
  private async add(room: string, members: Array<[string, string | null]>, announce: boolean): Promise<number> {
    const { redis, nodeId } = this.options;
    // Listed under the node first (the node is in the node list since its first heartbeat):
    // should the node die right after, the sweep still finds them.
    await redis.sadd(nodeMembersKey(nodeId), ...members.map(([member]) => `${room}|${member}`));
    const pairs = members.flatMap(([member, user]) => [member, user ?? '']);
    const [added, connections, version] = await redis.roomcastPresenceAdd(...this.roomKeys(room), ...pairs);
    if (added > 0) await this.list(room, connections, version);
    if (added > 0 || announce) this.announcer.changed(room);
    return added;
  }

  /** Removes members of `node`; with `onlyIfDead`, not while its alive key exists (a sweep). */
  private async remove(node: string, room: string, members: string[], onlyIfDead: boolean): Promise<number> {
    const { redis } = this.options;
    // A sweep that read a node's entries just before the node came back must not remove them;
    // the node re-adds its own once more after coming back (heartbeat), for the sweep that checked first.
    if (onlyIfDead && (await redis.exists(nodeAliveKey(node))) === 1) return 0;
    const [removed, connections, version] = await redis.roomcastPresenceRemove(...this.roomKeys(room), ...members);
    if (removed > 0) await this.list(room, connections, version);
    await redis.srem(nodeMembersKey(node), ...members.map((member) => `${room}|${member}`));
    return removed;
  }

  /** Writes the room's connections into its shard of the room directory (ONLINE_ROOM_SET). */
  private async list(room: string, connections: number, version: string): Promise<void> {
    const shard = onlineRoomShard(room);
    await this.options.redis.roomcastOnlineRoomSet(onlineRoomsKey(shard), onlineVersionsKey(shard), room, connections, version);
  }

  /** The KEYS of the add and remove scripts (see PRESENCE_HELPERS): the room's, one slot. */
  private roomKeys(room: string): string[] {
    return [roomPresenceKey(room), roomPresenceUsersKey(room), roomPresenceStatsKey(room)];
  }

  /** Takes a node that is dead and has no entries left out of the node list. */
  private async forgetNode(node: string): Promise<void> {
    const { redis } = this.options;
    if ((await redis.roomcastPresenceNodeGone(nodeMembersKey(node), nodeAliveKey(node))) === 1) await redis.srem(PRESENCE_NODES_KEY, node);
  }

  private read(room: string, listMax: number, gateMs: number) {
    return this.options.redis.roomcastPresenceRead(
      roomPresenceKey(room),
      roomPresenceUsersKey(room),
      roomPresenceStatsKey(room),
      roomPresenceGateKey(room),
      listMax,
      gateMs,
      PRESENCE_COPIES_PER_SECOND,
    );
  }

  /**
   * Publishes the room's presence frame as it is now; with `gated`, not if another node did less
   * than an interval ago (answers how long to wait). A frame found stale by the time it would go
   * out is dropped: the change that made it stale is announced by its own node.
   */
  private async announce(room: string, gated: boolean): Promise<{ sent: true; connections: number } | { sent: false; waitMs: number }> {
    const { listMax, intervalMs } = this.options.announce;
    const reply = await this.read(room, listMax, gated ? intervalMs : 0);
    if (reply[0] === 0) return { sent: false, waitMs: reply[1] };
    const event = presenceEvent(room, toPresence(reply, listMax));
    await this.options.redis.roomcastPresencePublish(roomPresenceStatsKey(room), reply[4], groupChannel(roomGroup(room)), JSON.stringify(event));
    return { sent: true, connections: reply[1] };
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
      // In the node list before any entry is added, and back in it after a sweep forgot it.
      await redis.sadd(PRESENCE_NODES_KEY, nodeId);
      const previous = await redis.set(nodeAliveKey(nodeId), '1', 'PX', this.timing.ttlMs, 'GET');
      if (previous === null && this.local.size > 0) {
        log.warn({ rooms: this.local.size }, 'this node was missing from presence; adding its members again');
        await this.restore(false);
        // Once more after a sweep period: a sweep that found the node dead just before this
        // heartbeat may remove what was just restored.
        this.restoreAgain = true;
      } else if (this.restoreAgain) {
        this.restoreAgain = false;
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
    for (const [room, members] of byRoom) {
      const gone = await this.remove(node, room, members, true);
      if (gone > 0) this.announcer.changed(room);
      removed += gone;
    }
    await this.forgetNode(node);
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

/** The presence a read reply describes, through the one decision both backends share. */
function toPresence(reply: [1, number, number, number, string, string[]], listMax: number): RoomPresence {
  const [, connections, anonymous, named, , names] = reply;
  return roomPresence({ connections, anonymous, named }, listMax, () => names);
}
