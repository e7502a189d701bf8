/**
 * Every Redis key and channel name Roomcast uses, in one place. All start with `rc:` so a
 * shared Redis stays readable and `SCAN rc:*` finds everything of ours.
 */
export const PREFIX = 'rc:';

// ---- rooms: history, fan-out, presence (Redis backend)
//
// Every key and the pub/sub channel of a room carry the hash tag `{ROOM}` (room names have no
// braces), so on a Redis Cluster they all live in one slot: the append script stores and
// publishes in one step, and nothing on a room's hot path crosses slots. One layout for one
// Redis and for a cluster (docs/cluster.md).

/** `rc:room:{ROOM}:`: the prefix, with the hash tag, of every key of a room. */
const roomKey = (room: string, what: string): string => `${PREFIX}room:{${room}}:${what}`;
/** The room's message log: a Stream whose entry IDs are the message IDs. */
export const roomStreamKey = (room: string): string => roomKey(room, 'log');
/** ID of the newest message trimmed from the room's log: a resume from before it is incomplete. */
export const roomTrimmedKey = (room: string): string => roomKey(room, 'trimmed');
/**
 * Hash of what changed about the room's kept messages (edits, reactions, deletions), by message
 * ID, as JSON: kept up to date by the append script and trimmed with the log.
 */
export const roomStateKey = (room: string): string => roomKey(room, 'state');
/** Sorted set of the IDs of the room's deleted messages (scored by the ID's time): their tombstones. */
export const roomDeletedKey = (room: string): string => roomKey(room, 'deleted');
/** Set of the usernames that posted in or read the room: who a `@name` may mention beside those present. */
export const roomReadersKey = (room: string): string => roomKey(room, 'readers');
/** Hash of the user's read position per room (room to message ID); its fields are the user's rooms. */
export const userReadsKey = (username: string): string => `${PREFIX}user:${username.toLowerCase()}:reads`;
/** Hash of the room's present connections: channel name to username ('' for anonymous). */
export const roomPresenceKey = (room: string): string => roomKey(room, 'presence');
/** Hash of the room's named users: username to its number of connections (distinct names in O(1)). */
export const roomPresenceUsersKey = (room: string): string => roomKey(room, 'presence:users');
/** Hash of the room's presence counters: `anonymous` connections, and `version`, moved on every change. */
export const roomPresenceStatsKey = (room: string): string => roomKey(room, 'presence:stats');
/** Set for a moment after a node announced the room: no other frame until it expires (one per interval cluster-wide). */
export const roomPresenceGateKey = (room: string): string => roomKey(room, 'presence:gate');
/** A remembered publish to the room (Idempotency-Key or socket nonce): the first message's ID. */
export const idempotencyKey = (room: string, key: string): string => roomKey(room, `idem:${key}`);

/**
 * The room directory (rooms with someone present, scored by their connections) is spread over
 * this many sorted sets, each in a slot of its own, so that no slot takes every join and leave.
 */
export const ONLINE_ROOM_SHARDS = 16;
/** One shard of the room directory, with the hash tag `{online:N}`. */
export const onlineRoomsKey = (shard: number): string => `${PREFIX}presence:{online:${shard}}:rooms`;
/** Beside each directory shard: the presence version each room's score was written at (no older write wins). */
export const onlineVersionsKey = (shard: number): string => `${PREFIX}presence:{online:${shard}}:versions`;
/** The directory shard of a room: FNV-1a of its name. */
export function onlineRoomShard(room: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < room.length; i += 1) hash = Math.imul(hash ^ room.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % ONLINE_ROOM_SHARDS;
}
/** Set of node IDs that have (or had) presence entries, for the sweep of dead nodes. */
export const PRESENCE_NODES_KEY = `${PREFIX}presence:nodes`;

// ---- claimed rooms: owners, members, bans, invites, slow mode, audit (Redis backend)

/** Hash of a claimed room's settings (owner, visibility, topic, slowModeMs, direct, createdAt); absent: unclaimed. */
export const roomMetaKey = (room: string): string => roomKey(room, 'meta');
/** Hash of a claimed room's members: lower-cased username to `role:Username`. */
export const roomMembersKey = (room: string): string => roomKey(room, 'members');
/** Set of a room's bans: lower-cased usernames and `guest:name`. */
export const roomBansKey = (room: string): string => roomKey(room, 'bans');
/** A live invite link of the room, expiring with it. */
export const roomInviteKey = (room: string, token: string): string => roomKey(room, `invite:${token}`);
/** Set while `who` must wait under the room's slow mode (SET NX PX). */
export const roomSlowModeKey = (room: string, who: string): string => roomKey(room, `slow:${who}`);
/** List of the room's moderation actions, newest first, capped. */
export const roomAuditKey = (room: string): string => roomKey(room, 'audit');
/** Sorted set (all scores 0, ordered by name) of public claimed rooms: the directory, paged by name. */
export const PUBLIC_ROOMS_KEY = `${PREFIX}rooms:public`;
/** Set of the rooms a user is a member of. */
export const userRoomsKey = (username: string): string => `${PREFIX}user:${username.toLowerCase()}:rooms`;

// ---- nodes (Redis backend): each node's keys share the hash tag `{node:ID}`

const nodeKey = (node: string, what: string): string => `${PREFIX}node:{${node}}:${what}`;
/** Present while the node lives: set with a short expiry and refreshed by its heartbeat. */
export const nodeAliveKey = (node: string): string => nodeKey(node, 'alive');
/** Written by `/readyz` (expiring in seconds): a write that Redis refuses when out of memory. */
export const nodeReadyProbeKey = (node: string): string => nodeKey(node, 'ready');
/** Set of the node's presence entries, each `room|channel`, so a dead node's can be removed. */
export const nodeMembersKey = (node: string): string => nodeKey(node, 'members');

// ---- sharded pub/sub channels (Redis backend: SPUBLISH / SSUBSCRIBE, on one Redis and on a cluster)

const ROOM_GROUP_PREFIX = 'room.';
const GROUP_CHANNEL_PREFIX = `${PREFIX}group:`;
/**
 * The channel of a channel-layer group: every node with a member subscribes once. A room's group
 * (`room.ROOM`) travels on `rc:room:{ROOM}:group`, in the slot of the room's keys; any other
 * group on `rc:group:{GROUP}`.
 */
export const groupChannel = (group: string): string =>
  group.startsWith(ROOM_GROUP_PREFIX) ? roomKey(group.slice(ROOM_GROUP_PREFIX.length), 'group') : `${GROUP_CHANNEL_PREFIX}{${group}}`;
/** The group a channel carries (the inverse of groupChannel), or undefined for a channel that is not a group's. */
export function groupOfChannel(channel: string): string | undefined {
  const room = /^rc:room:\{([^{}]+)\}:group$/.exec(channel);
  if (room) return `${ROOM_GROUP_PREFIX}${room[1]}`;
  const other = /^rc:group:\{(.*)\}$/s.exec(channel);
  return other ? other[1] : undefined;
}
/** The room whose log a group's messages are kept in, or undefined for a group that is no room's. */
export const roomOfGroup = (group: string): string | undefined =>
  group.startsWith(ROOM_GROUP_PREFIX) ? group.slice(ROOM_GROUP_PREFIX.length) : undefined;
/** A node's own channel, for events sent to one of its channels by name. */
export const nodeInboxChannel = (node: string): string => nodeKey(node, 'inbox');

// ---- accounts and sessions (auth)

/** Account record of a username, keyed case-insensitively. */
export const accountKey = (username: string): string => `${PREFIX}account:${username.toLowerCase()}`;
/** Claim of a folded username (`foldUsername`), so look-alike names cannot both register. */
export const accountFoldKey = (folded: string): string => `${PREFIX}account-fold:${folded}`;
/** A session, stored with an expiry. */
export const sessionKey = (sessionId: string): string => `${PREFIX}session:${sessionId}`;

// ---- the key layout

/** Which key layout this Redis holds: set once rooms written before hash tags are renamed (redis/key-layout.ts). */
export const KEY_LAYOUT_KEY = `${PREFIX}layout`;

// ---- Django Channels bridge

/** The cluster's ID in the Django layer (its channel `roomcast.<id>!<room>`), made by the first node. */
export const djangoClusterKey = `${PREFIX}django:cluster`;

// ---- rate limits

export const rateLimitKey = (key: string): string => `${PREFIX}rate:${key}`;
