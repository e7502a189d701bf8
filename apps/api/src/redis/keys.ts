/**
 * Every Redis key and channel name Roomcast uses, in one place. All start with `rc:` so a
 * shared Redis stays readable and `SCAN rc:*` finds everything of ours.
 */
export const PREFIX = 'rc:';

// ---- rooms: history, fan-out, presence (Redis backend)

/** The room's message log: a Stream whose entry IDs are the message IDs. */
export const roomStreamKey = (room: string): string => `${PREFIX}room:${room}:log`;
/** ID of the newest message trimmed from the room's log: a resume from before it is incomplete. */
export const roomTrimmedKey = (room: string): string => `${PREFIX}room:${room}:trimmed`;
/**
 * Hash of what changed about the room's kept messages (edits, reactions, deletions), by message
 * ID, as JSON: kept up to date by the append script and trimmed with the log.
 */
export const roomStateKey = (room: string): string => `${PREFIX}room:${room}:state`;
/** Sorted set of the IDs of the room's deleted messages (scored by the ID's time): their tombstones. */
export const roomDeletedKey = (room: string): string => `${PREFIX}room:${room}:deleted`;
/** Set of the usernames that posted in or read the room: who a `@name` may mention beside those present. */
export const roomReadersKey = (room: string): string => `${PREFIX}room:${room}:readers`;
/** Hash of the user's read position per room (room to message ID); its fields are the user's rooms. */
export const userReadsKey = (username: string): string => `${PREFIX}user:${username.toLowerCase()}:reads`;
/** Hash of the room's present connections: channel name to username ('' for anonymous). */
export const roomPresenceKey = (room: string): string => `${PREFIX}room:${room}:presence`;
/** Hash of the room's named users: username to its number of connections (distinct names in O(1)). */
export const roomPresenceUsersKey = (room: string): string => `${PREFIX}room:${room}:presence:users`;
/** Hash of the room's presence counters: `anonymous` connections, and `version`, moved on every change. */
export const roomPresenceStatsKey = (room: string): string => `${PREFIX}room:${room}:presence:stats`;
/** Set for a moment after a node announced the room: no other frame until it expires (one per interval cluster-wide). */
export const roomPresenceGateKey = (room: string): string => `${PREFIX}room:${room}:presence:gate`;
/** Counter giving every presence change a version no earlier state of any room can have. */
export const PRESENCE_VERSION_KEY = `${PREFIX}presence:version`;
/** Sorted set of rooms with someone present, scored by their number of connections. */
export const ONLINE_ROOMS_KEY = `${PREFIX}presence:online`;
/** Set of node IDs that have (or had) presence entries, for the sweep of dead nodes. */
export const PRESENCE_NODES_KEY = `${PREFIX}presence:nodes`;

// ---- claimed rooms: owners, members, bans, invites, slow mode, audit (Redis backend)

/** Hash of a claimed room's settings (owner, visibility, topic, slowModeMs, direct, createdAt); absent: unclaimed. */
export const roomMetaKey = (room: string): string => `${PREFIX}room:${room}:meta`;
/** Hash of a claimed room's members: lower-cased username to `role:Username`. */
export const roomMembersKey = (room: string): string => `${PREFIX}room:${room}:members`;
/** Set of a room's bans: lower-cased usernames and `guest:name`. */
export const roomBansKey = (room: string): string => `${PREFIX}room:${room}:bans`;
/** A live invite link of the room, expiring with it. */
export const roomInviteKey = (room: string, token: string): string => `${PREFIX}room:${room}:invite:${token}`;
/** Set while `who` must wait under the room's slow mode (SET NX PX). */
export const roomSlowModeKey = (room: string, who: string): string => `${PREFIX}room:${room}:slow:${who}`;
/** List of the room's moderation actions, newest first, capped. */
export const roomAuditKey = (room: string): string => `${PREFIX}room:${room}:audit`;
/** Sorted set (all scores 0, ordered by name) of public claimed rooms: the directory, paged by name. */
export const PUBLIC_ROOMS_KEY = `${PREFIX}rooms:public`;
/** Set of the rooms a user is a member of. */
export const userRoomsKey = (username: string): string => `${PREFIX}user:${username.toLowerCase()}:rooms`;

// ---- nodes (Redis backend)

/** Present while the node lives: set with a short expiry and refreshed by its heartbeat. */
export const nodeAliveKey = (node: string): string => `${PREFIX}node:${node}:alive`;
/** Written by `/readyz` (expiring in seconds): a write that Redis refuses when out of memory. */
export const nodeReadyProbeKey = (node: string): string => `${PREFIX}node:${node}:ready`;
/** Set of the node's presence entries, each `room|channel`, so a dead node's can be removed. */
export const nodeMembersKey = (node: string): string => `${PREFIX}node:${node}:members`;

// ---- pub/sub channels (Redis backend)

const GROUP_CHANNEL_PREFIX = `${PREFIX}group:`;
/** The pub/sub channel of a channel-layer group: every node with a member subscribes once. */
export const groupChannel = (group: string): string => `${GROUP_CHANNEL_PREFIX}${group}`;
/** The group a pub/sub channel carries, or undefined for a channel that is not a group's. */
export const groupOfChannel = (channel: string): string | undefined =>
  channel.startsWith(GROUP_CHANNEL_PREFIX) ? channel.slice(GROUP_CHANNEL_PREFIX.length) : undefined;
/** A node's own pub/sub channel, for events sent to one of its channels by name. */
export const nodeInboxChannel = (node: string): string => `${PREFIX}node:${node}:inbox`;

// ---- accounts and sessions (auth)

/** Account record of a username, keyed case-insensitively. */
export const accountKey = (username: string): string => `${PREFIX}account:${username.toLowerCase()}`;
/** Claim of a folded username (`foldUsername`), so look-alike names cannot both register. */
export const accountFoldKey = (folded: string): string => `${PREFIX}account-fold:${folded}`;
/** A session, stored with an expiry. */
export const sessionKey = (sessionId: string): string => `${PREFIX}session:${sessionId}`;

// ---- publishing

/** A remembered publish (Idempotency-Key or socket nonce): pending claim or the first message. */
export const idempotencyKey = (key: string): string => `${PREFIX}idem:${key}`;

// ---- Django Channels bridge

/** The cluster's ID in the Django layer (its channel `roomcast.<id>!<room>`), made by the first node. */
export const djangoClusterKey = `${PREFIX}django:cluster`;

// ---- rate limits

export const rateLimitKey = (key: string): string => `${PREFIX}rate:${key}`;
