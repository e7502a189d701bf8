import { SERVER_FRAME, serializeFrame } from '@roomcast/protocol';
import type { GroupEvent } from '../layer/channel-layer.js';

/**
 * Who is in a room: named users, each once however many tabs they have, named guests, and guest
 * connections. In a room above the list limit `users` and `guests` are empty and `count` is the
 * number of distinct names (users and named guests).
 */
export interface RoomPresence {
  users: string[];
  /** Guests who chose a name, each once. */
  guests: string[];
  /** Every guest connection, named or not. */
  anonymous: number;
  count?: number;
}

/**
 * What a connection is in presence: its username, `~NAME` for a guest who chose a name (`~` is
 * never in a username), or null for an anonymous guest.
 */
export type PresenceName = string | null;
const GUEST_MARK = '~';
export const presenceName = (user: string | null, guest: string | undefined): PresenceName =>
  user ?? (guest === undefined ? null : `${GUEST_MARK}${guest}`);
/** A named guest's presence name: counted among the guest connections too. */
export const isGuestName = (name: string): boolean => name.startsWith(GUEST_MARK);

export interface RoomOnline {
  room: string;
  online: number;
}

/**
 * Presence of connections in rooms. A member is one connection (its channel name). `join` and
 * `leave` change the room's counts in O(1) and have the room announced to its group by a
 * `PresenceAnnouncer`: at most one frame per room per interval, built when it is sent, so it
 * carries the latest state. The Redis implementation also expires the members of a node that
 * stops refreshing them and announces the rooms that changed.
 */
export interface Presence {
  join(room: string, member: string, name: PresenceName): Promise<void>;
  leave(room: string, member: string): Promise<void>;
  get(room: string): Promise<RoomPresence>;
  /**
   * The room as its presence frame shows it now (names up to the list limit, counts above), for
   * a socket that just joined: it gets this at once, not after the room's next coalesced frame.
   * Costs no more for a big room than for a small one.
   */
  snapshot(room: string): Promise<RoomPresence>;
  /** Rooms with at least one member, with the number of connections in each, busiest first. */
  rooms(): Promise<RoomOnline[]>;
  close(): Promise<void>;
}

/** What a room's counts say, as both backends keep them (every one O(1) to read). */
export interface PresenceCounts {
  /** Connections in the room. */
  connections: number;
  anonymous: number;
  /** Distinct named users. */
  named: number;
}

/**
 * The presence a frame carries, decided in one place for both backends: every name for a room
 * of at most `listMax` connections (`names` is only called then), counts for a larger one.
 */
export function roomPresence(counts: PresenceCounts, listMax: number, names: () => Iterable<string>): RoomPresence {
  if (counts.connections > listMax) return { users: [], guests: [], anonymous: counts.anonymous, count: counts.named };
  const users: string[] = [];
  const guests: string[] = [];
  for (const name of names()) {
    if (isGuestName(name)) guests.push(name.slice(GUEST_MARK.length));
    else users.push(name);
  }
  return { users: users.sort(), guests: guests.sort(), anonymous: counts.anonymous };
}

/** The group event that carries a room's presence frame: the one place the frame is built. */
export function presenceEvent(room: string, presence: RoomPresence): GroupEvent {
  return { type: SERVER_FRAME.presence, frame: serializeFrame({ type: SERVER_FRAME.presence, room, ...presence }) };
}
