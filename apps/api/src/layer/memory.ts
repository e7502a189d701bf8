import { messageIdTime } from '@roomcast/protocol';
import { randomUUID } from 'node:crypto';
import type { Metrics } from '../metrics.js';
import type { Channel, ChannelLayer, GroupEvent } from './channel-layer.js';

/**
 * The embedded channel layer: groups are sets of local channels and a send is a loop. It is the
 * reference for the contract every other layer must keep (delivery in send order, no delivery
 * after `groupDiscard`).
 */
export class MemoryChannelLayer implements ChannelLayer {
  readonly distributed = false;
  private readonly groups = new Map<string, Set<Channel>>();
  private readonly channels = new Map<string, Channel>();
  readonly nodeId = randomUUID().slice(0, 8);

  /** With `metrics`, observes each message's time from store to fan-out (near zero here, but one dashboard for both backends). */
  constructor(private readonly metrics?: Metrics) {}
  private counter = 0;

  /** `conn.<node>.`, made once: a name built from five pieces per socket keeps all five alive. */
  private readonly defaultPrefix = `conn.${this.nodeId}.`;

  newChannelName(prefix = 'conn'): string {
    this.counter += 1;
    return prefix === 'conn' ? this.defaultPrefix + this.counter : `${prefix}.${this.nodeId}.${this.counter}`;
  }

  async groupAdd(group: string, channel: Channel): Promise<void> {
    let members = this.groups.get(group);
    if (!members) {
      members = new Set();
      this.groups.set(group, members);
    }
    members.add(channel);
    this.channels.set(channel.name, channel);
  }

  async groupDiscard(group: string, channel: Channel): Promise<void> {
    const members = this.groups.get(group);
    if (!members) return;
    members.delete(channel);
    if (members.size === 0) this.groups.delete(group);
    if (![...this.groups.values()].some((set) => set.has(channel))) this.channels.delete(channel.name);
  }

  async groupSend(group: string, event: GroupEvent): Promise<void> {
    if (this.metrics && event.id !== undefined) this.metrics.observeFanOut(Date.now() - messageIdTime(event.id));
    deliverToAll(this.groups.get(group), event);
  }

  async send(channelName: string, event: GroupEvent): Promise<void> {
    this.channels.get(channelName)?.deliver(event);
  }

  localGroupSize(group: string): number {
    return this.groups.get(group)?.size ?? 0;
  }

  async close(): Promise<void> {
    this.groups.clear();
    this.channels.clear();
  }
}

/**
 * Hands one event to every local member of a group. A channel that throws is its own problem:
 * the others still get the event. Shared by every layer for its local delivery.
 */
export function deliverToAll(members: Iterable<Channel> | undefined, event: GroupEvent): number {
  if (!members) return 0;
  let delivered = 0;
  for (const channel of members) {
    try {
      channel.deliver(event);
      delivered += 1;
    } catch {
      // A broken connection is cleaned up by its own close handler; the fan-out goes on.
    }
  }
  return delivered;
}
