import { VISIBILITIES, ROLES, type AuditEntry, type Role, type RoomMember, type Visibility } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Result } from 'ioredis';
import type { RedisClient } from './client.js';
import {
  AUDIT_KEPT,
  memberKey,
  type DirectoryPage,
  type RoomRecord,
  type RoomRegistry,
  type RoomSettings,
  type RoomStanding,
} from '../registry/room-registry.js';
import {
  PUBLIC_ROOMS_KEY,
  roomAuditKey,
  roomBansKey,
  roomInviteKey,
  roomMembersKey,
  roomMetaKey,
  roomSlowModeKey,
  userRoomsKey,
} from './keys.js';
import { idleRoomKeys } from './history.js';
import { directoryPage } from './room-directory.js';

/**
 * Claims a room unless it has an owner: the settings and the first members in one step, so two
 * people claiming at once cannot both win, and nobody sees an owner without settings.
 * KEYS: meta, members, then every key of the room that idles (`idleRoomKeys`). ARGV: owner,
 * visibility, topic, slowModeMs, direct (0/1), createdAt, then member key / value pairs.
 */
const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'visibility', ARGV[2], 'topic', ARGV[3], 'slowModeMs', ARGV[4], 'direct', ARGV[5], 'createdAt', ARGV[6])
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
-- A claimed room is kept: its keys lose the idle expiry an unclaimed room has.
for i = 3, #KEYS do redis.call('PERSIST', KEYS[i]) end
return 1
`;

/**
 * A room's standing for one person in one round trip (every socket upgrade asks).
 * KEYS: meta, members, bans. ARGV: member key ('' for nobody), ban target ('' for nobody).
 * Returns {} when unclaimed, else {visibility, slowModeMs, member value or '', banned 0/1}.
 */
const STANDING = `
local meta = redis.call('HMGET', KEYS[1], 'visibility', 'slowModeMs')
if not meta[1] then return {} end
local member, banned = false, 0
if ARGV[1] ~= '' then member = redis.call('HGET', KEYS[2], ARGV[1]) end
if ARGV[2] ~= '' then banned = redis.call('SISMEMBER', KEYS[3], ARGV[2]) end
return {meta[1], meta[2] or '0', member or '', banned}
`;

/** Ordered so `setMember` can refuse to demote the owner in the same step. KEYS: members. ARGV: key, value. */
const SET_MEMBER = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and string.sub(current, 1, 6) == 'owner:' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    /** `numberOfKeys` first: the room's idle keys vary in number. */
    roomcastRoomClaim(numberOfKeys: number, ...keysAndArgv: Array<string | number>): Result<number, Context>;
    roomcastRoomStanding(meta: string, members: string, bans: string, member: string, target: string): Result<[string, string, string, number] | [], Context>;
    roomcastRoomSetMember(members: string, key: string, value: string): Result<number, Context>;
  }
}

const memberValue = (username: string, role: Role): string => `${role}:${username}`;
function parseMember(value: string): RoomMember | undefined {
  const colon = value.indexOf(':');
  const role = value.slice(0, colon) as Role;
  return colon > 0 && ROLES.includes(role) ? { role, username: value.slice(colon + 1) } : undefined;
}
const isVisibility = (value: unknown): value is Visibility => VISIBILITIES.includes(value as Visibility);


/**
 * The registry on Redis: per claimed room a settings hash, a members hash, a bans set, invite
 * keys and slow-mode keys that expire by themselves, and a capped audit list; one sorted set of
 * public rooms for the directory (see room-directory.ts).
 */
export class RedisRoomRegistry implements RoomRegistry {
  private readonly claimedHere = new Set<string>();

  constructor(
    private readonly redis: RedisClient,
    private readonly log: FastifyBaseLogger,
  ) {
    // A client shared by several apps (tests) learns the scripts once.
    if (typeof (redis as { roomcastRoomClaim?: unknown }).roomcastRoomClaim !== 'function') {
      redis.defineCommand('roomcastRoomClaim', { lua: CLAIM });
      redis.defineCommand('roomcastRoomStanding', { numberOfKeys: 3, lua: STANDING });
      redis.defineCommand('roomcastRoomSetMember', { numberOfKeys: 1, lua: SET_MEMBER });
    }
  }

  async claim(record: RoomRecord, others: readonly string[] = []): Promise<boolean> {
    const { room } = record;
    const pairs = [memberKey(record.owner), memberValue(record.owner, 'owner')];
    for (const other of others) pairs.push(memberKey(other), memberValue(other, 'member'));
    const keys = [roomMetaKey(room), roomMembersKey(room), ...idleRoomKeys(room)];
    const claimed = await this.redis.roomcastRoomClaim(
      keys.length,
      ...keys,
      record.owner,
      record.visibility,
      record.topic,
      record.slowModeMs,
      record.direct ? 1 : 0,
      record.createdAt,
      ...pairs,
    );
    if (claimed !== 1) return false;
    this.claimedHere.add(room);
    // One key each (never several rooms' keys in one command): fine on a Redis Cluster.
    await Promise.all([
      record.visibility === 'public' ? this.redis.zadd(PUBLIC_ROOMS_KEY, 0, room) : undefined,
      ...[record.owner, ...others].map((name) => this.redis.sadd(userRoomsKey(name), room)),
    ]);
    return true;
  }

  async get(room: string): Promise<RoomRecord | undefined> {
    const meta = await this.redis.hgetall(roomMetaKey(room));
    if (meta.owner === undefined || !isVisibility(meta.visibility)) return undefined;
    this.claimedHere.add(room);
    return {
      room,
      owner: meta.owner,
      visibility: meta.visibility,
      topic: meta.topic ?? '',
      slowModeMs: Number(meta.slowModeMs ?? 0),
      direct: meta.direct === '1',
      createdAt: Number(meta.createdAt ?? 0),
    };
  }

  async standing(room: string, who: string | undefined): Promise<RoomStanding> {
    const key = who === undefined ? '' : memberKey(who);
    const reply = await this.redis.roomcastRoomStanding(roomMetaKey(room), roomMembersKey(room), roomBansKey(room), key, key);
    if (reply.length === 0) {
      this.claimedHere.delete(room);
      return { claimed: false };
    }
    this.claimedHere.add(room);
    const [visibility, slowModeMs, member, banned] = reply;
    if (!isVisibility(visibility)) {
      // Never open a room because its record is damaged: treat it as private.
      this.log.warn({ room }, 'room record has no valid visibility; treated as private');
    }
    return {
      claimed: true,
      visibility: isVisibility(visibility) ? visibility : 'private',
      slowModeMs: Number(slowModeMs) || 0,
      role: member === '' ? undefined : parseMember(member)?.role,
      banned: banned === 1,
    };
  }

  async update(room: string, settings: RoomSettings): Promise<RoomRecord | undefined> {
    const current = await this.get(room);
    if (!current) return undefined;
    const fields: Array<string | number> = [];
    for (const [name, value] of Object.entries(settings)) if (value !== undefined) fields.push(name, value);
    if (fields.length > 0) await this.redis.hset(roomMetaKey(room), ...fields);
    const next = { ...current, ...settings };
    if (next.visibility === 'public') await this.redis.zadd(PUBLIC_ROOMS_KEY, 0, room);
    else await this.redis.zrem(PUBLIC_ROOMS_KEY, room);
    return next;
  }

  async members(room: string): Promise<RoomMember[]> {
    const values = await this.redis.hvals(roomMembersKey(room));
    return values.map(parseMember).filter((member): member is RoomMember => member !== undefined);
  }

  async setMember(room: string, username: string, role: Exclude<Role, 'owner'>): Promise<void> {
    const set = await this.redis.roomcastRoomSetMember(roomMembersKey(room), memberKey(username), memberValue(username, role));
    if (set === 1) await this.redis.sadd(userRoomsKey(username), room);
  }

  async removeMember(room: string, username: string): Promise<boolean> {
    const removed = await this.redis.hdel(roomMembersKey(room), memberKey(username));
    await this.redis.srem(userRoomsKey(username), room);
    return removed === 1;
  }

  async roomsOf(username: string): Promise<string[]> {
    return (await this.redis.smembers(userRoomsKey(username))).sort();
  }

  async ban(room: string, target: string): Promise<void> {
    await this.redis.sadd(roomBansKey(room), memberKey(target));
  }

  async unban(room: string, target: string): Promise<boolean> {
    return (await this.redis.srem(roomBansKey(room), memberKey(target))) === 1;
  }

  async addInvite(room: string, token: string, ttlMs: number): Promise<void> {
    await this.redis.set(roomInviteKey(room, token), '1', 'PX', ttlMs);
  }

  async inviteValid(room: string, token: string): Promise<boolean> {
    return (await this.redis.exists(roomInviteKey(room, token))) === 1;
  }

  async takeSlowMode(room: string, who: string, intervalMs: number): Promise<number> {
    if (intervalMs <= 0) return 0;
    const key = roomSlowModeKey(room, memberKey(who));
    if ((await this.redis.set(key, '1', 'PX', intervalMs, 'NX')) === 'OK') return 0;
    const left = await this.redis.pttl(key);
    // Expired between the two commands: the next try gets in.
    return Math.max(1, left);
  }

  async audit(room: string, entry: AuditEntry): Promise<void> {
    await this.redis.multi().lpush(roomAuditKey(room), JSON.stringify(entry)).ltrim(roomAuditKey(room), 0, AUDIT_KEPT - 1).exec();
  }

  async auditList(room: string, limit: number): Promise<AuditEntry[]> {
    const texts = await this.redis.lrange(roomAuditKey(room), 0, limit - 1);
    const entries: AuditEntry[] = [];
    for (const text of texts) {
      try {
        entries.push(JSON.parse(text) as AuditEntry);
      } catch {
        this.log.warn({ room }, 'skipped an audit entry that is not JSON');
      }
    }
    return entries;
  }

  directory(q: string, cursor: string | undefined): Promise<DirectoryPage> {
    return directoryPage(this.redis, q, cursor);
  }

  isClaimed(room: string): boolean {
    return this.claimedHere.has(room);
  }

  async close(): Promise<void> {
    this.claimedHere.clear();
  }
}
