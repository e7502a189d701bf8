import {
  DIRECTORY_PAGE_SIZE,
  GUEST_BAN_PREFIX,
  type AuditEntry,
  type DirectoryRoom,
  type Role,
  type RoomMember,
  type Visibility,
} from '@roomcast/protocol';

/** A claimed room's settings. A room with no record is unclaimed: open to everyone, as before. */
export interface RoomRecord {
  room: string;
  owner: string;
  visibility: Visibility;
  topic: string;
  slowModeMs: number;
  /** A direct conversation: exactly two members, no invites. */
  direct: boolean;
  createdAt: number;
}

export type RoomSettings = Partial<Pick<RoomRecord, 'visibility' | 'topic' | 'slowModeMs'>>;

/**
 * What one look-up says about a room for one person (answered in one round trip on Redis):
 * unclaimed, or claimed with its visibility and slow mode, the person's role and whether
 * they are banned.
 */
export type RoomStanding =
  | { claimed: false }
  | { claimed: true; visibility: Visibility; slowModeMs: number; role: Role | undefined; banned: boolean };

export interface DirectoryPage {
  rooms: DirectoryRoom[];
  cursor: string | null;
}

/**
 * Who owns which room, its members, bans, invites, slow-mode clocks and audit list. Names are
 * matched case-insensitively (`memberKey`); a guest is `guest:NAME` (`banTarget`).
 */
export interface RoomRegistry {
  /** Claims an unclaimed room for `record.owner` (its first member, as `owner`) and adds `others` as members; false when already claimed. */
  claim(record: RoomRecord, others?: readonly string[]): Promise<boolean>;
  get(room: string): Promise<RoomRecord | undefined>;
  /** The room's standing for `who` (a username, `guest:NAME`, or undefined for someone nameless). */
  standing(room: string, who: string | undefined): Promise<RoomStanding>;
  /** Changes settings of a claimed room; the record as it now is, or undefined if unclaimed. */
  update(room: string, settings: RoomSettings): Promise<RoomRecord | undefined>;
  members(room: string): Promise<RoomMember[]>;
  /** Adds or changes a member (never the owner's own role). */
  setMember(room: string, username: string, role: Exclude<Role, 'owner'>): Promise<void>;
  /** False when `username` was not a member. */
  removeMember(room: string, username: string): Promise<boolean>;
  /** Rooms `username` is a member of (for "my rooms"). */
  roomsOf(username: string): Promise<string[]>;
  ban(room: string, target: string): Promise<void>;
  /** False when `target` was not banned. */
  unban(room: string, target: string): Promise<boolean>;
  /** Remembers an invite token of the room until `ttlMs` from now. */
  addInvite(room: string, token: string, ttlMs: number): Promise<void>;
  /** Whether `token` is a live invite of the room. */
  inviteValid(room: string, token: string): Promise<boolean>;
  /**
   * Slow mode: 0 when `who` may post now (and starts their interval), else the milliseconds
   * until they may. Atomic across nodes on Redis (SET NX PX).
   */
  takeSlowMode(room: string, who: string, intervalMs: number): Promise<number>;
  /** Appends a moderation action to the room's audit list (the newest AUDIT_KEPT are kept). */
  audit(room: string, entry: AuditEntry): Promise<void>;
  /** The newest `limit` audit entries, newest first. */
  auditList(room: string, limit: number): Promise<AuditEntry[]>;
  /**
   * A page of the directory: public rooms whose name contains `q` (any case), then rooms nobody
   * claimed with people online, at most DIRECTORY_PAGE_SIZE a page; `cursor` continues it.
   */
  directory(q: string, cursor: string | undefined): Promise<DirectoryPage>;
  /** Whether the room is claimed, from what this node knows without asking (idle expiry, see rooms/idle-rooms.ts). */
  isClaimed(room: string): boolean;
  close(): Promise<void>;
}

/** Audit entries kept per room. */
export const AUDIT_KEPT = 1000;
export const PAGE_SIZE = DIRECTORY_PAGE_SIZE;

/** How a name is matched in members and bans: case-insensitively. */
export const memberKey = (name: string): string => name.toLowerCase();
/** A ban target as stored: a username, or `guest:NAME` for a guest, lower-cased. */
export const banTarget = (user: string | null, guest?: string): string | undefined =>
  user !== null ? memberKey(user) : guest !== undefined ? `${GUEST_BAN_PREFIX}${memberKey(guest)}` : undefined;

/** Whether a room name contains the search text, any case. */
export const matchesQuery = (room: string, q: string): boolean => q === '' || room.toLowerCase().includes(q.toLowerCase());

/** Rooms with more people online first, then by name. */
export const busiestFirst = (a: DirectoryRoom, b: DirectoryRoom): number => b.online - a.online || a.room.localeCompare(b.room);

/** A directory cursor: the phase (`p`ublic rooms by name, `o`nline unclaimed rooms) and where in it. */
export interface DirectoryCursor {
  phase: 'p' | 'o';
  at: string;
}
export const encodeCursor = (cursor: DirectoryCursor): string => Buffer.from(`${cursor.phase}:${cursor.at}`).toString('base64url');
export function decodeCursor(raw: string | undefined): DirectoryCursor | undefined {
  if (raw === undefined || raw === '') return { phase: 'p', at: '' };
  const text = Buffer.from(raw, 'base64url').toString();
  const phase = text.slice(0, 1);
  if ((phase !== 'p' && phase !== 'o') || text[1] !== ':') return undefined;
  return { phase, at: text.slice(2) };
}
