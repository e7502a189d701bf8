import type { FastifyBaseLogger } from 'fastify';
import { roomGroup, type ChannelLayer } from '../layer/channel-layer.js';
import { PresenceAnnouncer, type AnnounceOptions } from './announcer.js';
import { isGuestName, presenceEvent, roomPresence, type Presence, type PresenceName, type RoomOnline, type RoomPresence } from './presence.js';

/** One room's members, with the counts a frame needs kept up to date on every change. */
interface RoomMembers {
  /** Channel name to presence name (a username, `~NAME` for a named guest, null: anonymous). */
  connections: Map<string, string | null>;
  /** Presence name (users and named guests) to its number of connections here. */
  users: Map<string, number>;
  anonymous: number;
}

/** The embedded presence: members and counts per room, announced through a PresenceAnnouncer. */
export class MemoryPresence implements Presence {
  private readonly byRoom = new Map<string, RoomMembers>();
  private readonly announcer: PresenceAnnouncer;

  constructor(
    private readonly layer: ChannelLayer,
    private readonly options: AnnounceOptions,
    log: FastifyBaseLogger,
  ) {
    this.announcer = new PresenceAnnouncer(options.intervalMs, (room) => this.announce(room), log);
  }

  async join(room: string, member: string, user: PresenceName): Promise<void> {
    let members = this.byRoom.get(room);
    if (!members) {
      members = { connections: new Map(), users: new Map(), anonymous: 0 };
      this.byRoom.set(room, members);
    }
    const prior = members.connections.get(member);
    if (prior !== undefined) count(members, prior, -1);
    members.connections.set(member, user);
    count(members, user, 1);
    this.announcer.changed(room);
  }

  async leave(room: string, member: string): Promise<void> {
    const members = this.byRoom.get(room);
    const user = members?.connections.get(member);
    if (!members || user === undefined) return;
    members.connections.delete(member);
    count(members, user, -1);
    if (members.connections.size === 0) this.byRoom.delete(room);
    this.announcer.changed(room);
  }

  async get(room: string): Promise<RoomPresence> {
    return this.presence(room, Infinity);
  }

  async snapshot(room: string): Promise<RoomPresence> {
    return this.presence(room, this.options.listMax);
  }

  async rooms(): Promise<RoomOnline[]> {
    return [...this.byRoom]
      .map(([room, members]) => ({ room, online: members.connections.size }))
      .sort((a, b) => b.online - a.online || a.room.localeCompare(b.room));
  }

  async close(): Promise<void> {
    this.announcer.close();
    this.byRoom.clear();
  }

  private presence(room: string, listMax: number): RoomPresence {
    const members = this.byRoom.get(room);
    if (!members) return { users: [], guests: [], anonymous: 0 };
    const counts = { connections: members.connections.size, anonymous: members.anonymous, named: members.users.size };
    return roomPresence(counts, listMax, () => members.users.keys());
  }

  private async announce(room: string): Promise<{ sent: true; connections: number }> {
    await this.layer.groupSend(roomGroup(room), presenceEvent(room, this.presence(room, this.options.listMax)));
    return { sent: true, connections: this.byRoom.get(room)?.connections.size ?? 0 };
  }
}

function count(members: RoomMembers, user: PresenceName, delta: 1 | -1): void {
  // A named guest is a name in the list and a guest connection in `anonymous`.
  if (user === null || isGuestName(user)) members.anonymous += delta;
  if (user === null) return;
  const connections = (members.users.get(user) ?? 0) + delta;
  if (connections > 0) members.users.set(user, connections);
  else members.users.delete(user);
}
