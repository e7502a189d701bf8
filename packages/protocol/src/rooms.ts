import { Type, type Static } from '@sinclair/typebox';
import { ROOM_PATTERN } from './constants.js';

/**
 * Rooms people own: claiming, settings, members, invites, bans, the audit list, direct
 * conversations and the directory. A room nobody claimed has none of this and is open to all.
 */

/** `public`: listed in the directory; `unlisted`: open to whoever knows the name; `private`: members only. */
export const VISIBILITIES = ['public', 'unlisted', 'private'] as const;
export type Visibility = (typeof VISIBILITIES)[number];
export const Visibility = Type.Union(VISIBILITIES.map((value) => Type.Literal(value)));

/** `owner` (one, who claimed it), `moderator` (deletes, kicks, bans, slow mode) or `member`. */
export const ROLES = ['owner', 'moderator', 'member'] as const;
export type Role = (typeof ROLES)[number];
export const Role = Type.Union(ROLES.map((value) => Type.Literal(value)));

export const TOPIC_MAX_LENGTH = 200;
/** Slow mode is at most one message an hour per person. */
export const SLOW_MODE_MAX_MS = 3_600_000;
/** Invite links live from a minute to 30 days. */
export const INVITE_TTL_MIN_SECONDS = 60;
export const INVITE_TTL_MAX_SECONDS = 30 * 24 * 3600;
/** Directory pages hold at most this many rooms. */
export const DIRECTORY_PAGE_SIZE = 20;
/** Direct conversations are rooms named with this prefix; nobody claims such a name by hand. */
export const DM_ROOM_PREFIX = 'dm-';
/** A banned guest is written `guest:NAME`. */
export const GUEST_BAN_PREFIX = 'guest:';

const Topic = Type.String({ maxLength: TOPIC_MAX_LENGTH });
const SlowModeMs = Type.Integer({ minimum: 0, maximum: SLOW_MODE_MAX_MS });

/** Body of `POST /rooms`. */
export const ClaimRoomBody = Type.Object({
  room: Type.String({ pattern: ROOM_PATTERN.source }),
  visibility: Visibility,
  topic: Type.Optional(Topic),
});
export type ClaimRoomBody = Static<typeof ClaimRoomBody>;

/** Body of `PATCH /rooms/:room`: any of the settings. */
export const PatchRoomBody = Type.Object(
  { visibility: Type.Optional(Visibility), topic: Type.Optional(Topic), slowModeMs: Type.Optional(SlowModeMs) },
  { additionalProperties: false, minProperties: 1 },
);
export type PatchRoomBody = Static<typeof PatchRoomBody>;

export const RoomMember = Type.Object({ username: Type.String(), role: Role });
export type RoomMember = Static<typeof RoomMember>;

/** `GET /rooms/:room`. */
export const RoomInfo = Type.Object({
  room: Type.String(),
  owner: Type.String(),
  visibility: Visibility,
  topic: Type.String(),
  members: Type.Array(RoomMember),
  slowModeMs: Type.Integer({ minimum: 0 }),
  /** True for a direct conversation (a private room of exactly two people). */
  direct: Type.Optional(Type.Boolean()),
});
export type RoomInfo = Static<typeof RoomInfo>;

/** `/rooms/:room/members/:username` */
export const MemberParams = Type.Object({ room: Type.String(), username: Type.String() });
export type MemberParams = Static<typeof MemberParams>;
/** Body of `PUT /rooms/:room/members/:username`: the owner is owner by claiming, not by this. */
export const MemberBody = Type.Object({ role: Type.Union([Type.Literal('member'), Type.Literal('moderator')]) });
export type MemberBody = Static<typeof MemberBody>;

/** `/rooms/:room/bans/:target`: a username, or `guest:NAME`. */
export const BanParams = Type.Object({ room: Type.String(), target: Type.String() });
export type BanParams = Static<typeof BanParams>;

export const InviteBody = Type.Object({
  ttlSeconds: Type.Integer({ minimum: INVITE_TTL_MIN_SECONDS, maximum: INVITE_TTL_MAX_SECONDS }),
});
export type InviteBody = Static<typeof InviteBody>;
export const Invite = Type.Object({ token: Type.String(), expires: Type.Integer({ description: 'ms since the epoch' }) });
export type Invite = Static<typeof Invite>;
export const JoinBody = Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) });
export type JoinBody = Static<typeof JoinBody>;

export const AUDIT_ACTIONS = ['claim', 'settings', 'member', 'remove', 'join', 'kick', 'ban', 'unban', 'delete'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/** One moderation action: what, by whom, to whom, when. */
export const AuditEntry = Type.Object({
  action: Type.Union(AUDIT_ACTIONS.map((value) => Type.Literal(value))),
  by: Type.String(),
  target: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  ts: Type.Integer(),
});
export type AuditEntry = Static<typeof AuditEntry>;
export const AuditList = Type.Object({ entries: Type.Array(AuditEntry) });
export type AuditList = Static<typeof AuditList>;

/** `POST /dm/:username` */
export const DmParams = Type.Object({ username: Type.String() });
export type DmParams = Static<typeof DmParams>;
export const DmAnswer = Type.Object({ room: Type.String() });
export type DmAnswer = Static<typeof DmAnswer>;

/** `GET /rooms?q=&cursor=` */
export const DirectoryQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 64 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});
export type DirectoryQuery = Static<typeof DirectoryQuery>;
export const DirectoryRoom = Type.Object({
  room: Type.String(),
  /** Empty for a room nobody claimed. */
  topic: Type.String(),
  /** Members of a claimed room; 0 for a room nobody claimed. */
  members: Type.Integer({ minimum: 0 }),
  online: Type.Integer({ minimum: 0 }),
});
export type DirectoryRoom = Static<typeof DirectoryRoom>;
/** A page of the directory; `cursor` is null on the last page. */
export const Directory = Type.Object({ rooms: Type.Array(DirectoryRoom), cursor: Type.Union([Type.String(), Type.Null()]) });
export type Directory = Static<typeof Directory>;
