import { Type, type Static } from '@sinclair/typebox';
import {
  HISTORY_PAGE_MAX,
  MAX_MESSAGE_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  ROOM_PATTERN,
  USERNAME_PATTERN,
} from './constants.js';
import { MESSAGE_ID_PATTERN } from './ids.js';
import { MessageState } from './frames.js';
import { messageTextProblem } from './text.js';

/** Body of `POST /rooms/:room/messages`. Length is checked by the route (413 too_long), not here. */
export const PostMessageBody = Type.Object({
  message: Type.String({ minLength: 1 }),
  /** The message this one answers. */
  replyTo: Type.Optional(Type.String({ pattern: MESSAGE_ID_PATTERN.source })),
});
export type PostMessageBody = Static<typeof PostMessageBody>;

export const RoomParams = Type.Object({ room: Type.String() });
export type RoomParams = Static<typeof RoomParams>;

/** Query strings are strings on the wire: `limit` is checked against 1..HISTORY_PAGE_MAX by `pageLimit`. */
export const MessagesQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  before: Type.Optional(Type.String({ pattern: MESSAGE_ID_PATTERN.source })),
});
export type MessagesQuery = Static<typeof MessagesQuery>;

/** The page size a `limit` query asks for, or undefined when it is out of range. */
export function pageLimit(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  return Number.isInteger(limit) && limit >= 1 && limit <= HISTORY_PAGE_MAX ? limit : undefined;
}

/** `/rooms/:room/messages/:id` */
export const MessageParams = Type.Object({ room: Type.String(), id: Type.String() });
export type MessageParams = Static<typeof MessageParams>;
/** `/rooms/:room/messages/:id/reactions/:emoji` (the emoji percent-encoded in the path). */
export const ReactionParams = Type.Object({ room: Type.String(), id: Type.String(), emoji: Type.String() });
export type ReactionParams = Static<typeof ReactionParams>;

/** Body of `PATCH /rooms/:room/messages/:id`: the new text (length checked by the route, 413). */
export const EditMessageBody = Type.Object({ message: Type.String({ minLength: 1 }) });
export type EditMessageBody = Static<typeof EditMessageBody>;

/** Body of `PUT /rooms/:room/read`: the signed-in user has read up to and including `id`. */
export const ReadBody = Type.Object({ id: Type.String({ pattern: MESSAGE_ID_PATTERN.source }) });
export type ReadBody = Static<typeof ReadBody>;

/** One room of `GET /me/rooms`: messages after the user's read position, and those mentioning them. */
export const MyRoom = Type.Object({
  room: Type.String(),
  unread: Type.Integer({ minimum: 0 }),
  mentions: Type.Integer({ minimum: 0 }),
  /** The newest message ID of the room, or null for a room with no message kept. */
  lastId: Type.Union([Type.String(), Type.Null()]),
  /** Where the user has read up to, when they have. */
  readId: Type.Optional(Type.String()),
});
export type MyRoom = Static<typeof MyRoom>;
export const MyRooms = Type.Object({ rooms: Type.Array(MyRoom) });
export type MyRooms = Static<typeof MyRooms>;

export const MessagesPage = Type.Object({
  messages: Type.Array(MessageState),
  hasMore: Type.Boolean(),
});
export type MessagesPage = Static<typeof MessagesPage>;

export const RoomSummary = Type.Object({ room: Type.String(), online: Type.Integer({ minimum: 0 }) });
export type RoomSummary = Static<typeof RoomSummary>;
export const RoomsList = Type.Object({ rooms: Type.Array(RoomSummary) });
export type RoomsList = Static<typeof RoomsList>;

export const Credentials = Type.Object({
  username: Type.String({ pattern: USERNAME_PATTERN.source }),
  password: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH }),
});
export type Credentials = Static<typeof Credentials>;

export const PublicUser = Type.Object({ username: Type.String() });
export type PublicUser = Static<typeof PublicUser>;
export const UserBody = Type.Object({ user: PublicUser });
export type UserBody = Static<typeof UserBody>;

export const ErrorBody = Type.Object({ error: Type.String(), code: Type.String() });
export type ErrorBody = Static<typeof ErrorBody>;

export const isRoomName = (value: unknown): value is string => typeof value === 'string' && ROOM_PATTERN.test(value);
export const isUsername = (value: unknown): value is string =>
  typeof value === 'string' && USERNAME_PATTERN.test(value);
export const isMessageText = (value: unknown): value is string =>
  typeof value === 'string' && value.length <= MAX_MESSAGE_LENGTH && messageTextProblem(value) === undefined;
