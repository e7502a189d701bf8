import { NOT_READ, type ReadStore } from '../reads/read-store.js';
import { expiresWhenIdle } from '../rooms/idle-rooms.js';
import type { RedisClient } from './client.js';
import { roomReadersKey, userReadsKey } from './keys.js';

/**
 * Read positions on Redis: a hash per user (room to message ID, moved forward only by a script,
 * so two devices marking at once cannot move it back) and a set per room of its readers, which
 * expires with the room when it idles. Every node reads the same, so a read on one device counts
 * on another device connected to another node.
 *
 * The user's hash and the room's set are in different slots on a Redis Cluster (the set carries
 * the room's hash tag, the hash does not), so no command or pipeline here names both: each is
 * written by its own command (CROSSSLOT otherwise).
 */
export class RedisReadStore implements ReadStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly roomIdleTtlMs: number,
    /** Which rooms are claimed, and so kept however long they idle (the backend's room registry). */
    private readonly claimed?: { isClaimed(room: string): boolean },
  ) {}

  async markRead(user: string, room: string, id: string): Promise<string> {
    const now = await this.redis.roomcastMarkRead(userReadsKey(user), room, id);
    await this.join(user, room);
    return now;
  }

  /** Both writes sent at once: a mention of the user right after their post finds them. */
  async notePoster(user: string, room: string): Promise<void> {
    await Promise.all([this.redis.hsetnx(userReadsKey(user), room, NOT_READ), this.join(user, room)]);
  }

  /** Adds the user to the room's readers, in the room's slot (one pipeline: the set and its idle clock). */
  private async join(user: string, room: string): Promise<void> {
    const key = roomReadersKey(room);
    const pipeline = this.redis.pipeline().sadd(key, user.toLowerCase());
    if (expiresWhenIdle(room, this.claimed)) pipeline.pexpire(key, this.roomIdleTtlMs);
    for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  }

  async rooms(user: string): Promise<Array<{ room: string; readId?: string }>> {
    const positions = await this.redis.hgetall(userReadsKey(user));
    return Object.entries(positions).map(([room, id]) => (id === NOT_READ ? { room } : { room, readId: id }));
  }

  async readers(room: string, names: readonly string[]): Promise<string[]> {
    if (names.length === 0) return [];
    const flags = await this.redis.smismember(roomReadersKey(room), ...names.map((name) => name.toLowerCase()));
    return names.filter((_, index) => flags[index] === 1);
  }

  async close(): Promise<void> {
    // The client belongs to the backend.
  }
}
