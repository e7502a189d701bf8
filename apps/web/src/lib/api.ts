import { HISTORY_PAGE_DEFAULT, roomMessagesPath, type MessagesPage, type MyRooms, type PublicUser, type ReadBody, type RoomsList, type UserBody } from '@roomcast/protocol';
import { requestJson } from './http.js';

/** The routes of INTERFACE.md the SPA calls over HTTP (the room socket is the RoomClient's). */

export function fetchMessages(room: string, options: { before?: string; limit?: number } = {}): Promise<MessagesPage> {
  const query = new URLSearchParams({ limit: String(options.limit ?? HISTORY_PAGE_DEFAULT) });
  if (options.before !== undefined) query.set('before', options.before);
  return requestJson<MessagesPage>('GET', `${roomMessagesPath(room)}?${query}`);
}

export const fetchOnlineRooms = (): Promise<RoomsList> => requestJson<RoomsList>('GET', '/rooms');

/** The signed-in user's rooms with unread and mention counts and read positions. */
export const fetchMyRooms = (): Promise<MyRooms> => requestJson<MyRooms>('GET', '/me/rooms');

/** The signed-in user has read `room` up to and including `id` (on every device). */
export const markRead = (room: string, id: string): Promise<void> => requestJson<void>('PUT', `/rooms/${room}/read`, { id } satisfies ReadBody);

export interface Credentials {
  username: string;
  password: string;
}

export const fetchMe = async (): Promise<PublicUser> => (await requestJson<UserBody>('GET', '/auth/me')).user;
export const register = async (credentials: Credentials): Promise<PublicUser> =>
  (await requestJson<UserBody>('POST', '/auth/register', credentials)).user;
export const logIn = async (credentials: Credentials): Promise<PublicUser> =>
  (await requestJson<UserBody>('POST', '/auth/login', credentials)).user;
export const logOut = (): Promise<void> => requestJson<void>('POST', '/auth/logout');
