import { Type, type Static } from '@sinclair/typebox';
import {
  HISTORY_PAGE_MAX,
  MAX_MESSAGE_LENGTH,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
  ROOM_PATTERN,
  USERNAME_PATTERN,
} from './constants.js';
import { ChatMessage } from './frames.js';
import { messageTextProblem } from './text.js';

/** Body of `POST /rooms/:room/messages`. Length is checked by the route (413 too_long), not here. */
export const PostMessageBody = Type.Object({
  message: Type.String({ minLength: 1 }),
});
export type PostMessageBody = Static<typeof PostMessageBody>;

export const RoomParams = Type.Object({ room: Type.String() });
export type RoomParams = Static<typeof RoomParams>;

/** Query strings are strings on the wire: `limit` is checked against 1..HISTORY_PAGE_MAX by `pageLimit`. */
export const MessagesQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  before: Type.Optional(Type.String({ pattern: '^\\d{1,16}-\\d{1,16}$' })),
});
export type MessagesQuery = Static<typeof MessagesQuery>;

/** The page size a `limit` query asks for, or undefined when it is out of range. */
export function pageLimit(raw: string | undefined, fallback: number): number | undefined {
  if (raw === undefined) return fallback;
  const limit = Number(raw);
  return Number.isInteger(limit) && limit >= 1 && limit <= HISTORY_PAGE_MAX ? limit : undefined;
}

export const MessagesPage = Type.Object({
  messages: Type.Array(ChatMessage),
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
