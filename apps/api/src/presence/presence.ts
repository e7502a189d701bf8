import { SERVER_FRAME, serializeFrame } from '@roomcast/protocol';
import type { GroupEvent } from '../layer/channel-layer.js';

/** Who is in a room: named users, each once however many tabs they have, and anonymous connections. */
export interface RoomPresence {
  users: string[];
  anonymous: number;
}

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
  join(room: string, member: string, user: string | null): Promise<void>;
  leave(room: string, member: string): Promise<void>;
  get(room: string): Promise<RoomPresence>;
  /** Rooms with at least one member, with the number of connections in each, busiest first. */
  rooms(): Promise<RoomOnline[]>;
  close(): Promise<void>;
}

/** Folds members into the presence frame's shape: distinct names sorted, anonymous counted. */
export function summarize(members: Iterable<string | null>): RoomPresence {
  const users = new Set<string>();
  let anonymous = 0;
  for (const user of members) {
    if (user === null) anonymous += 1;
    else users.add(user);
  }
  return { users: [...users].sort(), anonymous };
}

/** The group event that carries a room's presence frame. */
export function presenceEvent(room: string, presence: RoomPresence): GroupEvent {
  return { type: SERVER_FRAME.presence, frame: serializeFrame({ type: SERVER_FRAME.presence, room, ...presence }) };
}
