import type { AuditList, Directory, DmAnswer, Invite, RoomInfo, Visibility } from '@roomcast/protocol';
import { requestJson } from './http.js';

/** The room routes of docs/rooms.md: claiming, settings, members, invites, moderation, the directory. */

const roomPath = (room: string): string => `/rooms/${encodeURIComponent(room)}`;

export const fetchRoom = (room: string): Promise<RoomInfo> => requestJson<RoomInfo>('GET', roomPath(room));
export const claimRoom = (room: string, visibility: Visibility, topic: string): Promise<RoomInfo> =>
  requestJson<RoomInfo>('POST', '/rooms', { room, visibility, topic });
export const updateRoom = (room: string, settings: Partial<Pick<RoomInfo, 'visibility' | 'topic' | 'slowModeMs'>>): Promise<RoomInfo> =>
  requestJson<RoomInfo>('PATCH', roomPath(room), settings);
export const setMember = (room: string, username: string, role: 'member' | 'moderator'): Promise<RoomInfo> =>
  requestJson<RoomInfo>('PUT', `${roomPath(room)}/members/${encodeURIComponent(username)}`, { role });
export const removeMember = (room: string, username: string): Promise<void> =>
  requestJson<void>('DELETE', `${roomPath(room)}/members/${encodeURIComponent(username)}`);
export const createInvite = (room: string, ttlSeconds: number): Promise<Invite> => requestJson<Invite>('POST', `${roomPath(room)}/invites`, { ttlSeconds });
export const joinRoom = (room: string, token: string): Promise<RoomInfo> => requestJson<RoomInfo>('POST', `${roomPath(room)}/join`, { token });
/** `target`: a username, or `guest:NAME`. */
export const ban = (room: string, target: string): Promise<void> => requestJson<void>('PUT', `${roomPath(room)}/bans/${encodeURIComponent(target)}`);
export const unban = (room: string, target: string): Promise<void> => requestJson<void>('DELETE', `${roomPath(room)}/bans/${encodeURIComponent(target)}`);
export const kick = (room: string, target: string): Promise<void> => requestJson<void>('POST', `${roomPath(room)}/kicks/${encodeURIComponent(target)}`);
export const fetchAudit = (room: string): Promise<AuditList> => requestJson<AuditList>('GET', `${roomPath(room)}/audit`);
export const openDirect = (username: string): Promise<DmAnswer> => requestJson<DmAnswer>('POST', `/dm/${encodeURIComponent(username)}`);

export function fetchDirectory(q: string, cursor?: string): Promise<Directory> {
  const query = new URLSearchParams();
  if (q !== '') query.set('q', q);
  if (cursor !== undefined) query.set('cursor', cursor);
  const text = query.toString();
  return requestJson<Directory>('GET', text === '' ? '/rooms' : `/rooms?${text}`);
}

/** The link that makes whoever opens it (signed in) a member. */
export const inviteLink = (room: string, token: string): string =>
  `${globalThis.location.origin}/chat/${encodeURIComponent(room)}/?invite=${encodeURIComponent(token)}`;

/** Why a room is closed to this page, in words: a refusal code or a 4003 close reason. */
export function refusalText(why: string): string {
  switch (why) {
    case 'forbidden':
      return 'This room is private: only its members can read it or chat in it. Ask its owner for an invite link.';
    case 'banned':
      return 'You are banned from this room. Its moderators can lift the ban.';
    case 'removed':
      return 'You were removed from this room by its owner.';
    case 'kicked':
      return 'A moderator removed you from this room for now. You may rejoin.';
    default:
      return 'This room is closed to you.';
  }
}
