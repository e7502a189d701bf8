import type { AuditEntry, Role, RoomMember } from '@roomcast/protocol';
import type { RoomOnline } from '../presence/presence.js';
import {
  AUDIT_KEPT,
  PAGE_SIZE,
  decodeCursor,
  busiestFirst,
  encodeCursor,
  matchesQuery,
  memberKey,
  type DirectoryPage,
  type RoomRecord,
  type RoomRegistry,
  type RoomSettings,
  type RoomStanding,
} from './room-registry.js';

interface ClaimedRoom {
  record: RoomRecord;
  /** memberKey -> the member as named when added. */
  members: Map<string, RoomMember>;
  bans: Set<string>;
  /** token -> expiry (ms since the epoch). */
  invites: Map<string, number>;
  /** memberKey or guest target -> when they may post again. */
  slow: Map<string, number>;
  /** Oldest first; at most AUDIT_KEPT. */
  audit: AuditEntry[];
}

/** The embedded backend's registry: gone when the process stops, like everything embedded. */
export class MemoryRoomRegistry implements RoomRegistry {
  private readonly rooms = new Map<string, ClaimedRoom>();
  private readonly memberships = new Map<string, Set<string>>();

  constructor(
    /** Rooms with someone online (the presence of the same backend), for the directory. */
    private readonly online: () => Promise<RoomOnline[]>,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(record: RoomRecord, others: readonly string[] = []): Promise<boolean> {
    if (this.rooms.has(record.room)) return false;
    const claimed: ClaimedRoom = { record: { ...record }, members: new Map(), bans: new Set(), invites: new Map(), slow: new Map(), audit: [] };
    this.rooms.set(record.room, claimed);
    this.addMember(claimed, record.owner, 'owner');
    for (const other of others) this.addMember(claimed, other, 'member');
    return true;
  }

  async get(room: string): Promise<RoomRecord | undefined> {
    const claimed = this.rooms.get(room);
    return claimed && { ...claimed.record };
  }

  async standing(room: string, who: string | undefined): Promise<RoomStanding> {
    const claimed = this.rooms.get(room);
    if (!claimed) return { claimed: false };
    const key = who === undefined ? undefined : memberKey(who);
    return {
      claimed: true,
      visibility: claimed.record.visibility,
      slowModeMs: claimed.record.slowModeMs,
      role: key === undefined ? undefined : claimed.members.get(key)?.role,
      banned: key !== undefined && claimed.bans.has(key),
    };
  }

  async update(room: string, settings: RoomSettings): Promise<RoomRecord | undefined> {
    const claimed = this.rooms.get(room);
    if (!claimed) return undefined;
    Object.assign(claimed.record, settings);
    return { ...claimed.record };
  }

  async members(room: string): Promise<RoomMember[]> {
    return [...(this.rooms.get(room)?.members.values() ?? [])].map((member) => ({ ...member }));
  }

  async setMember(room: string, username: string, role: Exclude<Role, 'owner'>): Promise<void> {
    const claimed = this.rooms.get(room);
    if (claimed && claimed.members.get(memberKey(username))?.role !== 'owner') this.addMember(claimed, username, role);
  }

  async removeMember(room: string, username: string): Promise<boolean> {
    const key = memberKey(username);
    const removed = this.rooms.get(room)?.members.delete(key) ?? false;
    this.memberships.get(key)?.delete(room);
    return removed;
  }

  async roomsOf(username: string): Promise<string[]> {
    return [...(this.memberships.get(memberKey(username)) ?? [])].sort();
  }

  async ban(room: string, target: string): Promise<void> {
    this.rooms.get(room)?.bans.add(memberKey(target));
  }

  async unban(room: string, target: string): Promise<boolean> {
    return this.rooms.get(room)?.bans.delete(memberKey(target)) ?? false;
  }

  async addInvite(room: string, token: string, ttlMs: number): Promise<void> {
    const invites = this.rooms.get(room)?.invites;
    if (!invites) return;
    const now = this.now();
    for (const [known, expires] of invites) if (expires <= now) invites.delete(known);
    invites.set(token, now + ttlMs);
  }

  async inviteValid(room: string, token: string): Promise<boolean> {
    const expires = this.rooms.get(room)?.invites.get(token);
    return expires !== undefined && expires > this.now();
  }

  async takeSlowMode(room: string, who: string, intervalMs: number): Promise<number> {
    const slow = this.rooms.get(room)?.slow;
    if (!slow || intervalMs <= 0) return 0;
    const now = this.now();
    const key = memberKey(who);
    const until = slow.get(key) ?? 0;
    if (until > now) return until - now;
    for (const [known, at] of slow) if (at <= now) slow.delete(known);
    slow.set(key, now + intervalMs);
    return 0;
  }

  async audit(room: string, entry: AuditEntry): Promise<void> {
    const list = this.rooms.get(room)?.audit;
    if (!list) return;
    list.push({ ...entry });
    if (list.length > AUDIT_KEPT) list.splice(0, list.length - AUDIT_KEPT);
  }

  async auditList(room: string, limit: number): Promise<AuditEntry[]> {
    return (this.rooms.get(room)?.audit ?? []).slice(-limit).reverse();
  }

  async directory(q: string, raw: string | undefined): Promise<DirectoryPage> {
    const cursor = decodeCursor(raw);
    if (!cursor) return { rooms: [], cursor: null };
    const online = new Map((await this.online()).map(({ room, online: count }) => [room, count]));
    if (cursor.phase === 'p') {
      const names = [...this.rooms.values()]
        .filter(({ record }) => record.visibility === 'public' && record.room > cursor.at && matchesQuery(record.room, q))
        .map(({ record }) => record.room)
        .sort();
      const page = names.slice(0, PAGE_SIZE);
      const rooms = page.map((room) => {
        const claimed = this.rooms.get(room)!;
        return { room, topic: claimed.record.topic, members: claimed.members.size, online: online.get(room) ?? 0 };
      });
      if (names.length > PAGE_SIZE) return { rooms, cursor: encodeCursor({ phase: 'p', at: page.at(-1)! }) };
      // The public rooms ended on this page: the first rooms with someone online follow on it.
      const first = this.onlinePage(q, online, 0);
      return { rooms: [...rooms, ...first.rooms], cursor: first.cursor };
    }
    return this.onlinePage(q, online, Number(cursor.at) || 0);
  }

  private onlinePage(q: string, online: Map<string, number>, start: number): DirectoryPage {
    const unclaimed = [...online.keys()].filter((room) => !this.rooms.has(room) && matchesQuery(room, q)).sort();
    const page = unclaimed.slice(start, start + PAGE_SIZE);
    return {
      rooms: page.map((room) => ({ room, topic: '', members: 0, online: online.get(room) ?? 0 })).sort(busiestFirst),
      cursor: start + PAGE_SIZE < unclaimed.length ? encodeCursor({ phase: 'o', at: String(start + PAGE_SIZE) }) : null,
    };
  }

  isClaimed(room: string): boolean {
    return this.rooms.has(room);
  }

  async close(): Promise<void> {
    this.rooms.clear();
    this.memberships.clear();
  }

  private addMember(claimed: ClaimedRoom, username: string, role: Role): void {
    const key = memberKey(username);
    claimed.members.set(key, { username, role });
    let rooms = this.memberships.get(key);
    if (!rooms) {
      rooms = new Set();
      this.memberships.set(key, rooms);
    }
    rooms.add(claimed.record.room);
  }
}
