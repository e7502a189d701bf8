/** Every wire string and limit both ends agree on lives here, so a rename is one edit. */

/** A room name: letters, digits, `_` and `-`, 1 to 64 of them. */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const USERNAME_PATTERN = /^[A-Za-z0-9_.-]{3,32}$/;
export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 200;

/** Longest chat text, in UTF-16 code units (what `String.length` counts). */
export const MAX_MESSAGE_LENGTH = 4000;
/**
 * A client nonce: 1 to 64 visible ASCII characters (0x21-0x7E), like an `Idempotency-Key`.
 * Nothing in it needs escaping beyond JSON's own, so it is stored and echoed byte for byte.
 */
export const MAX_NONCE_LENGTH = 64;
export const NONCE_PATTERN = /^[\x21-\x7e]{1,64}$/;
/**
 * `?client=ID` on the socket upgrade: a random ID a client keeps across its reconnects (16 to 64
 * visible ASCII characters). An anonymous client's nonces are its own under it, so a resend
 * after a reconnect is still stored once; without it they are the connection's own.
 */
export const CLIENT_ID_PATTERN = /^[\x21-\x7e]{16,64}$/;
/** Largest WebSocket frame the server reads; a larger one closes the socket with 1009. */
export const MAX_FRAME_BYTES = 64 * 1024;
/** Largest HTTP body the server reads; a larger one is refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The emoji a message may be reacted with: a small fixed set, so a reaction is a toggle on a
 * known key and nobody can grow a message's state with arbitrary strings.
 */
export const REACTION_EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '✅'] as const;
export type ReactionEmoji = (typeof REACTION_EMOJI)[number];
export const isReactionEmoji = (value: unknown): value is ReactionEmoji =>
  typeof value === 'string' && (REACTION_EMOJI as readonly string[]).includes(value);

/** At most this many distinct `@name` mentions are recognised in one message. */
export const MAX_MENTIONS = 20;

export const HISTORY_PAGE_DEFAULT = 50;
export const HISTORY_PAGE_MAX = 200;

/** The `via` of a message posted with an API key: no human name can pass for a service. */
export const VIA_API = 'api';

/** Paths of the WebSocket and HTTP routes. */
export const CHAT_SOCKET_PREFIX = '/ws/chat/';
export const chatSocketPath = (room: string): string => `${CHAT_SOCKET_PREFIX}${room}/`;
export const roomMessagesPath = (room: string): string => `/rooms/${room}/messages`;

/** `type` of frames a client sends. The bare `{"message"}` form of the seeds has no type. */
export const CLIENT_FRAME = {
  chatMessage: 'chat.message',
  /** Replaces the text of the sender's own message. */
  chatEdit: 'chat.edit',
  /** Removes a message: the author's own, or any for a room's moderators. */
  chatDelete: 'chat.delete',
  /** Toggles the sender's reaction with one emoji on a message. */
  reaction: 'reaction',
  typing: 'typing',
  /** Asks for a `pong`: a browser cannot see WebSocket pings, so it proves the link this way. */
  ping: 'ping',
} as const;

/** `type` of frames the server sends. */
export const SERVER_FRAME = {
  chatMessage: 'chat.message',
  chatEdit: 'chat.edit',
  chatDelete: 'chat.delete',
  reaction: 'reaction',
  presence: 'presence',
  typing: 'typing',
  recovered: 'recovered',
  error: 'error',
  pong: 'pong',
} as const;

/** WebSocket close codes Roomcast uses, with their meaning for a client. */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  /** Origin not allowed, login required. Do not reconnect blindly. */
  policy: 1008,
  /** Frame larger than MAX_FRAME_BYTES. */
  tooLarge: 1009,
  /** Server error: reconnect with backoff. */
  serverError: 1011,
  /** Server restarting (graceful shutdown): reconnect, ideally elsewhere. */
  restarting: 1012,
  /** Too slow to keep up: reconnect with `since` to catch up from history. */
  tooSlow: 1013,
  /** The session was signed out (logout anywhere): sign in again or continue as a guest. */
  signedOut: 4001,
  /** Removed from the room or banned: do not reconnect. */
  forbidden: 4003,
} as const;
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE];

/** Close codes after which a client should not reconnect on its own. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([CLOSE.policy, CLOSE.signedOut, CLOSE.forbidden]);

/**
 * The WebSocket subprotocol of the full Roomcast protocol. A client that offers it gets every
 * frame; one that offers none (the Django tutorial page) gets only frames that carry `message`.
 */
export const SUBPROTOCOL = 'roomcast.v1';
