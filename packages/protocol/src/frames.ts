import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CLIENT_FRAME, MAX_MESSAGE_LENGTH, NONCE_PATTERN, SERVER_FRAME, VIA_API } from './constants.js';
import { ERRORS, type ErrorCode } from './errors.js';
import { messageTextProblem } from './text.js';

// ---------------------------------------------------------------- client to server

const Nonce = Type.String({ pattern: NONCE_PATTERN.source });
const MessageText = Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH });

/** `{"message": "text"}` (the seeds' bare form) or the typed form with an optional nonce. */
export const ClientChatFrame = Type.Object({
  type: Type.Optional(Type.Literal(CLIENT_FRAME.chatMessage)),
  message: MessageText,
  nonce: Type.Optional(Nonce),
});
export type ClientChatFrame = Static<typeof ClientChatFrame>;

export const ClientTypingFrame = Type.Object({ type: Type.Literal(CLIENT_FRAME.typing) });
export type ClientTypingFrame = Static<typeof ClientTypingFrame>;

export const ClientPingFrame = Type.Object({ type: Type.Literal(CLIENT_FRAME.ping) });
export type ClientPingFrame = Static<typeof ClientPingFrame>;

export type ClientFrame =
  | { kind: 'chat'; message: string; nonce?: string }
  | { kind: 'typing' }
  | { kind: 'ping' };

// ---------------------------------------------------------------- server to client

export const ChatMessage = Type.Object({
  type: Type.Literal(SERVER_FRAME.chatMessage),
  id: Type.String(),
  room: Type.String(),
  user: Type.Union([Type.String(), Type.Null()]),
  /** A guest's chosen name (`user` stays null). */
  guest: Type.Optional(Type.String()),
  /** `"api"`: posted with an API key, by a service. */
  via: Type.Optional(Type.Literal(VIA_API)),
  message: Type.String(),
  ts: Type.Number(),
  nonce: Type.Optional(Type.String()),
});
/** A stored chat message: the frame sockets receive and the item of every HTTP message list. */
export type ChatMessage = Static<typeof ChatMessage>;

/**
 * Who is in a room. In a room of more than the server's list limit (`PRESENCE_LIST_MAX`
 * connections) `users` and `guests` are empty and `count` says how many distinct names (signed-in
 * users and named guests) are there: naming everyone on every change would make each join cost
 * the size of the room. A frame without `count` lists every signed-in user and named guest.
 */
export const PresenceFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.presence),
  room: Type.String(),
  users: Type.Array(Type.String()),
  /** Named guests, each once; `anonymous` counts every guest connection, named or not. */
  guests: Type.Optional(Type.Array(Type.String())),
  anonymous: Type.Integer({ minimum: 0 }),
  count: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type PresenceFrame = Static<typeof PresenceFrame>;

export const TypingFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.typing),
  user: Type.Union([Type.String(), Type.Null()]),
  guest: Type.Optional(Type.String()),
});
export type TypingFrame = Static<typeof TypingFrame>;

export const RecoveredFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.recovered),
  complete: Type.Boolean(),
});
export type RecoveredFrame = Static<typeof RecoveredFrame>;

export const ErrorFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.error),
  code: Type.String(),
  reason: Type.String(),
  /** The reason again, for clients without the `roomcast.v1` subprotocol that show `data.message`. */
  message: Type.Optional(Type.String()),
  nonce: Type.Optional(Type.String()),
  retryAfterMs: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type ErrorFrame = Static<typeof ErrorFrame>;

/** The answer to a client's `ping`. */
export const PongFrame = Type.Object({ type: Type.Literal(SERVER_FRAME.pong) });
export type PongFrame = Static<typeof PongFrame>;

export const ServerFrame = Type.Union([ChatMessage, PresenceFrame, TypingFrame, RecoveredFrame, ErrorFrame, PongFrame]);
export type ServerFrame = Static<typeof ServerFrame>;

const SERVER_FRAME_SCHEMAS: Record<string, TSchema> = {
  [SERVER_FRAME.chatMessage]: ChatMessage,
  [SERVER_FRAME.presence]: PresenceFrame,
  [SERVER_FRAME.typing]: TypingFrame,
  [SERVER_FRAME.recovered]: RecoveredFrame,
  [SERVER_FRAME.error]: ErrorFrame,
  [SERVER_FRAME.pong]: PongFrame,
};

// ---------------------------------------------------------------- parsing

/** What a parser refused, in the terms of an error frame. */
export interface Refusal {
  ok: false;
  code: ErrorCode;
  reason: string;
  nonce?: string;
}
export type Parsed<T> = { ok: true; value: T } | Refusal;

/** Only a valid nonce is echoed: anything else could not be matched to a send anyway. */
const refuse = (code: ErrorCode, reason: string, nonce?: unknown): Refusal =>
  isNonce(nonce) ? { ok: false, code, reason, nonce } : { ok: false, code, reason };

export const isNonce = (value: unknown): value is string => typeof value === 'string' && NONCE_PATTERN.test(value);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function firstSchemaError(schema: TSchema, value: unknown): string {
  const error = Value.Errors(schema, value).First();
  if (!error) return ERRORS.invalid_frame.message;
  const where = error.path === '' ? 'the frame' : `"${error.path.slice(1)}"`;
  return `${where}: ${error.message}`;
}

/**
 * Reads one text frame a client sent. Never throws: anything that is not a valid frame comes
 * back as a refusal with the error code to send (and the nonce to echo, when one was readable).
 */
export function parseClientFrame(text: string): Parsed<ClientFrame> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return refuse('invalid_frame', 'The frame is not JSON.');
  }
  if (!isRecord(data)) return refuse('invalid_frame', 'The frame must be a JSON object.');

  const type = data.type;
  if (type === undefined || type === CLIENT_FRAME.chatMessage) {
    const message = data.message;
    if (typeof message === 'string' && message.length > MAX_MESSAGE_LENGTH) {
      return refuse('too_long', `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`, data.nonce);
    }
    if (typeof message === 'string') {
      const problem = messageTextProblem(message);
      if (problem !== undefined) return refuse('invalid_frame', problem, data.nonce);
    }
    if (data.nonce !== undefined && !isNonce(data.nonce)) {
      return refuse('invalid_frame', '"nonce" must be 1 to 64 visible ASCII characters (0x21-0x7E).');
    }
    if (!Value.Check(ClientChatFrame, data)) {
      return refuse('invalid_frame', firstSchemaError(ClientChatFrame, data), data.nonce);
    }
    return data.nonce === undefined
      ? { ok: true, value: { kind: 'chat', message: data.message } }
      : { ok: true, value: { kind: 'chat', message: data.message, nonce: data.nonce } };
  }
  if (type === CLIENT_FRAME.typing) return { ok: true, value: { kind: 'typing' } };
  if (type === CLIENT_FRAME.ping) return { ok: true, value: { kind: 'ping' } };
  if (typeof type === 'string') {
    return refuse('unknown_type', `Unknown frame type ${JSON.stringify(type.slice(0, 64))}.`);
  }
  return refuse('invalid_frame', '"type" must be a string.');
}

/** Reads one frame the server sent; `undefined` for anything that is not one (ignored by clients). */
export function parseServerFrame(text: string): ServerFrame | undefined {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(data) || typeof data.type !== 'string') return undefined;
  const schema = SERVER_FRAME_SCHEMAS[data.type];
  return schema && Value.Check(schema, data) ? (data as ServerFrame) : undefined;
}

// ---------------------------------------------------------------- serializing

export const serializeFrame = (frame: ServerFrame): string => JSON.stringify(frame);

/**
 * The sender's own copy of a chat frame: the shared text with `nonce` added, without parsing it
 * again. `frameText` must be a serialized object (it ends with `}`).
 */
export const withNonce = (frameText: string, nonce: string): string =>
  `${frameText.slice(0, -1)},"nonce":${JSON.stringify(nonce)}}`;

export const errorFrame = (code: ErrorCode, reason?: string, extra?: { nonce?: string; retryAfterMs?: number }): ErrorFrame => ({
  type: SERVER_FRAME.error,
  code,
  reason: reason ?? ERRORS[code].message,
  ...(extra?.nonce === undefined ? {} : { nonce: extra.nonce }),
  ...(extra?.retryAfterMs === undefined ? {} : { retryAfterMs: extra.retryAfterMs }),
});
