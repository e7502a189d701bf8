import { SERVER_FRAME, serializeFrame } from '@roomcast/protocol';
import type { GroupEvent } from '../layer/channel-layer.js';

/** Who is in a room: named users, each once however many tabs they have, named guests, and guest connections. */
export interface RoomPresence {
  users: string[];
  /** Guests who chose a name, each once. */
  guests: string[];
  /** Every guest connection, named or not. */
  anonymous: number;
}

/**
 * What a connection is in presence: its username, `~NAME` for a guest who chose a name (`~` is
 * never in a username), or null for an anonymous guest.
 */
export type PresenceName = string | null;
const GUEST_MARK = '~';
export const presenceName = (user: string | null, guest: string | undefined): PresenceName =>
  user ?? (guest === undefined ? null : `${GUEST_MARK}${guest}`);

export interface RoomOnline {
  room: string;
  online: number;
}

/**
 * Presence of connections in rooms. A member is one connection (its channel name). `join` and
 * `leave` announce the room's new presence frame to the room's group themselves, so that the
 * state read and the announcement are one step (one script on Redis) and frames cannot arrive
 * out of date. The Redis implementation also expires the members of a node that stops
 * refreshing them and announces the rooms that changed.
 */
export interface Presence {
  join(room: string, member: string, name: PresenceName): Promise<void>;
  leave(room: string, member: string): Promise<void>;
  get(room: string): Promise<RoomPresence>;
  /** Rooms with at least one member, with the number of connections in each, busiest first. */
  rooms(): Promise<RoomOnline[]>;
  close(): Promise<void>;
}

/** Folds members into the presence frame's shape: distinct names sorted, guests counted. */
export function summarize(members: Iterable<PresenceName>): RoomPresence {
  const users = new Set<string>();
  const guests = new Set<string>();
  let anonymous = 0;
  for (const name of members) {
    if (name === null || name.startsWith(GUEST_MARK)) anonymous += 1;
    if (name === null) continue;
    if (name.startsWith(GUEST_MARK)) guests.add(name.slice(GUEST_MARK.length));
    else users.add(name);
  }
  return { users: [...users].sort(), guests: [...guests].sort(), anonymous };
}

/** The group event that carries a room's presence frame. */
export function presenceEvent(room: string, presence: RoomPresence): GroupEvent {
  return { type: SERVER_FRAME.presence, frame: serializeFrame({ type: SERVER_FRAME.presence, room, ...presence }) };
}
