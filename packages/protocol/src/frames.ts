import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import {
  CLIENT_FRAME,
  MAX_MESSAGE_LENGTH,
  NONCE_PATTERN,
  REACTION_EMOJI,
  SERVER_FRAME,
  VIA_API,
  isReactionEmoji,
  type ReactionEmoji,
} from './constants.js';
import { ERRORS, type ErrorCode } from './errors.js';
import { MESSAGE_ID_PATTERN, isMessageId } from './ids.js';
import { messageTextProblem } from './text.js';

// ---------------------------------------------------------------- client to server

const Nonce = Type.String({ pattern: NONCE_PATTERN.source });
const MessageText = Type.String({ minLength: 1, maxLength: MAX_MESSAGE_LENGTH });
const MessageId = Type.String({ pattern: MESSAGE_ID_PATTERN.source });
const Emoji = Type.Union(REACTION_EMOJI.map((emoji) => Type.Literal(emoji)));

/** `{"message": "text"}` (the seeds' bare form) or the typed form with an optional nonce. */
export const ClientChatFrame = Type.Object({
  type: Type.Optional(Type.Literal(CLIENT_FRAME.chatMessage)),
  message: MessageText,
  nonce: Type.Optional(Nonce),
  /** The message this one answers. */
  replyTo: Type.Optional(MessageId),
});
export type ClientChatFrame = Static<typeof ClientChatFrame>;

/** Replaces the text of one of the sender's own messages. */
export const ClientEditFrame = Type.Object({
  type: Type.Literal(CLIENT_FRAME.chatEdit),
  target: MessageId,
  message: MessageText,
  nonce: Type.Optional(Nonce),
});
export type ClientEditFrame = Static<typeof ClientEditFrame>;

/** Deletes a message: the sender's own, or any for the room's moderators. */
export const ClientDeleteFrame = Type.Object({
  type: Type.Literal(CLIENT_FRAME.chatDelete),
  target: MessageId,
  nonce: Type.Optional(Nonce),
});
export type ClientDeleteFrame = Static<typeof ClientDeleteFrame>;

/** Toggles the sender's reaction `emoji` on the message `target`. */
export const ClientReactionFrame = Type.Object({
  type: Type.Literal(CLIENT_FRAME.reaction),
  target: MessageId,
  emoji: Emoji,
  nonce: Type.Optional(Nonce),
});
export type ClientReactionFrame = Static<typeof ClientReactionFrame>;

export const ClientTypingFrame = Type.Object({ type: Type.Literal(CLIENT_FRAME.typing) });
export type ClientTypingFrame = Static<typeof ClientTypingFrame>;

export const ClientPingFrame = Type.Object({ type: Type.Literal(CLIENT_FRAME.ping) });
export type ClientPingFrame = Static<typeof ClientPingFrame>;

export type ClientFrame =
  | { kind: 'chat'; message: string; nonce?: string; replyTo?: string }
  | { kind: 'edit'; target: string; message: string; nonce?: string }
  | { kind: 'delete'; target: string; nonce?: string }
  | { kind: 'reaction'; target: string; emoji: ReactionEmoji; nonce?: string }
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
  /** The ID of the message this one answers. */
  replyTo: Type.Optional(Type.String()),
  /** Names of people in the room the text mentions as `@name`, as the server recognised them. */
  mentions: Type.Optional(Type.Array(Type.String())),
});
/** A chat message as it was sent: the frame sockets receive. */
export type ChatMessage = Static<typeof ChatMessage>;

/** Who did something to a message: the same three fields a chat message names its sender with. */
const Actor = {
  user: Type.Union([Type.String(), Type.Null()]),
  guest: Type.Optional(Type.String()),
  via: Type.Optional(Type.Literal(VIA_API)),
};

/**
 * Who reacted with each emoji: names as messages show senders (`alice`), guests as
 * `guest:NAME` and services as `api:NAME`, in the order they reacted.
 */
export const Reactions = Type.Record(Type.String(), Type.Array(Type.String()));
export type Reactions = Static<typeof Reactions>;

/**
 * A message in its current state, as `GET /rooms/:room/messages` answers it: `edited` is when its
 * text last changed; a deleted message is a tombstone with `deleted: true` and no `message`.
 */
export const MessageState = Type.Object({
  type: Type.Literal(SERVER_FRAME.chatMessage),
  id: Type.String(),
  room: Type.String(),
  ...Actor,
  message: Type.Optional(Type.String()),
  ts: Type.Number(),
  replyTo: Type.Optional(Type.String()),
  mentions: Type.Optional(Type.Array(Type.String())),
  edited: Type.Optional(Type.Number()),
  deleted: Type.Optional(Type.Literal(true)),
  reactions: Type.Optional(Reactions),
});
export type MessageState = Static<typeof MessageState>;

/** A message's text was replaced (`id` is the edit's own place in the room's log). */
export const ChatEditFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.chatEdit),
  id: Type.String(),
  room: Type.String(),
  target: Type.String(),
  message: Type.String(),
  mentions: Type.Optional(Type.Array(Type.String())),
  ...Actor,
  ts: Type.Number(),
  nonce: Type.Optional(Type.String()),
});
export type ChatEditFrame = Static<typeof ChatEditFrame>;

/** A message was deleted, by its author or a moderator (`user` says who). */
export const ChatDeleteFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.chatDelete),
  id: Type.String(),
  room: Type.String(),
  target: Type.String(),
  ...Actor,
  ts: Type.Number(),
  nonce: Type.Optional(Type.String()),
});
export type ChatDeleteFrame = Static<typeof ChatDeleteFrame>;

/** Someone's reaction was set (`on: true`) or taken back (`on: false`). */
export const ReactionFrame = Type.Object({
  type: Type.Literal(SERVER_FRAME.reaction),
  id: Type.String(),
  room: Type.String(),
  target: Type.String(),
  emoji: Type.String(),
  on: Type.Boolean(),
  ...Actor,
  ts: Type.Number(),
  nonce: Type.Optional(Type.String()),
});
export type ReactionFrame = Static<typeof ReactionFrame>;

/** Every event of a room's log, as sockets receive it, in the room's one order. */
export type RoomEventFrame = ChatMessage | ChatEditFrame | ChatDeleteFrame | ReactionFrame;

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

export const ServerFrame = Type.Union([
  ChatMessage,
  ChatEditFrame,
  ChatDeleteFrame,
  ReactionFrame,
  PresenceFrame,
  TypingFrame,
  RecoveredFrame,
  ErrorFrame,
  PongFrame,
]);
export type ServerFrame = Static<typeof ServerFrame>;

const SERVER_FRAME_SCHEMAS: Record<string, TSchema> = {
  [SERVER_FRAME.chatMessage]: ChatMessage,
  [SERVER_FRAME.chatEdit]: ChatEditFrame,
  [SERVER_FRAME.chatDelete]: ChatDeleteFrame,
  [SERVER_FRAME.reaction]: ReactionFrame,
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

/** `{key: value}` when the checked frame has the optional string field, `{}` when it does not. */
const optional = <K extends 'nonce' | 'replyTo'>(data: { [key in K]?: string }, key: K): { [key in K]?: string } =>
  data[key] === undefined ? {} : ({ [key]: data[key] } as { [key in K]?: string });

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
    return { ok: true, value: { kind: 'chat', message: data.message, ...optional(data, 'nonce'), ...optional(data, 'replyTo') } };
  }
  if (type === CLIENT_FRAME.chatEdit) {
    const message = data.message;
    if (typeof message === 'string' && message.length > MAX_MESSAGE_LENGTH) {
      return refuse('too_long', `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`, data.nonce);
    }
    if (typeof message === 'string') {
      const problem = messageTextProblem(message);
      if (problem !== undefined) return refuse('invalid_frame', problem, data.nonce);
    }
    if (!Value.Check(ClientEditFrame, data)) return refuse('invalid_frame', firstSchemaError(ClientEditFrame, data), data.nonce);
    return { ok: true, value: { kind: 'edit', target: data.target, message: data.message, ...optional(data, 'nonce') } };
  }
  if (type === CLIENT_FRAME.chatDelete) {
    if (!Value.Check(ClientDeleteFrame, data)) return refuse('invalid_frame', firstSchemaError(ClientDeleteFrame, data), data.nonce);
    return { ok: true, value: { kind: 'delete', target: data.target, ...optional(data, 'nonce') } };
  }
  if (type === CLIENT_FRAME.reaction) {
    if (isMessageId(data.target) && typeof data.emoji === 'string' && !isReactionEmoji(data.emoji)) {
      return refuse('invalid_frame', `"emoji" must be one of ${REACTION_EMOJI.join(' ')}.`, data.nonce);
    }
    if (!Value.Check(ClientReactionFrame, data)) {
      return refuse('invalid_frame', firstSchemaError(ClientReactionFrame, data), data.nonce);
    }
    return { ok: true, value: { kind: 'reaction', target: data.target, emoji: data.emoji, ...optional(data, 'nonce') } };
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
