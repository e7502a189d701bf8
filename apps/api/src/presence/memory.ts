import { roomGroup, type ChannelLayer } from '../layer/channel-layer.js';
import { presenceEvent, summarize, type Presence, type PresenceName, type RoomOnline, type RoomPresence } from './presence.js';

/** The embedded presence: a map of members per room, announced synchronously on every change. */
export class MemoryPresence implements Presence {
  private readonly members = new Map<string, Map<string, string | null>>();

  constructor(private readonly layer: ChannelLayer) {}

  async join(room: string, member: string, user: PresenceName): Promise<void> {
    let members = this.members.get(room);
    if (!members) {
      members = new Map();
      this.members.set(room, members);
    }
    members.set(member, user);
    await this.announce(room);
  }

  async leave(room: string, member: string): Promise<void> {
    const members = this.members.get(room);
    if (!members?.delete(member)) return;
    if (members.size === 0) this.members.delete(room);
    await this.announce(room);
  }

  async get(room: string): Promise<RoomPresence> {
    return summarize(this.members.get(room)?.values() ?? []);
  }

  async rooms(): Promise<RoomOnline[]> {
    return [...this.members]
      .map(([room, members]) => ({ room, online: members.size }))
      .sort((a, b) => b.online - a.online || a.room.localeCompare(b.room));
  }

  private async announce(room: string): Promise<void> {
    await this.layer.groupSend(roomGroup(room), presenceEvent(room, await this.get(room)));
  }

  async close(): Promise<void> {
    this.members.clear();
  }
}
