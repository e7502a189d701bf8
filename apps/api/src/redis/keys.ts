/**
 * Every Redis key and channel name Roomcast uses, in one place. All start with `rc:` so a
 * shared Redis stays readable and `SCAN rc:*` finds everything of ours.
 */
export const PREFIX = 'rc:';

// ---- rooms: history, fan-out, presence (Redis backend)

/** The room's message log: a Stream whose entry IDs are the message IDs. */
export const roomStreamKey = (room: string): string => `${PREFIX}room:${room}:log`;

// ---- accounts and sessions (auth)

/** Account record of a username, keyed case-insensitively. */
export const accountKey = (username: string): string => `${PREFIX}account:${username.toLowerCase()}`;
/** A session, stored with an expiry. */
export const sessionKey = (sessionId: string): string => `${PREFIX}session:${sessionId}`;

// ---- rate limits

export const rateLimitKey = (key: string): string => `${PREFIX}rate:${key}`;
