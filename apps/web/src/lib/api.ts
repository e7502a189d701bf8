import { HISTORY_PAGE_DEFAULT, roomMessagesPath, type MessagesPage, type PublicUser, type RoomsList, type UserBody } from '@roomcast/protocol';
import { requestJson } from './http.js';

/** The routes of INTERFACE.md the SPA calls over HTTP (the room socket is the RoomClient's). */

export function fetchMessages(room: string, options: { before?: string; limit?: number } = {}): Promise<MessagesPage> {
  const query = new URLSearchParams({ limit: String(options.limit ?? HISTORY_PAGE_DEFAULT) });
  if (options.before !== undefined) query.set('before', options.before);
  return requestJson<MessagesPage>('GET', `${roomMessagesPath(room)}?${query}`);
}

export const fetchOnlineRooms = (): Promise<RoomsList> => requestJson<RoomsList>('GET', '/rooms');

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
