import { compareMessageIds, messageIdTime } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { roomOfGroup } from './keys.js';

/** How often the newest message of every subscribed room is compared with the newest one received. */
export const SUBSCRIPTION_CHECK_MS = 3000;
/**
 * A message newer than the newest received counts as missed once it is this old (its ID's time,
 * Redis's clock, against the node's): younger, it may still be on its way.
 */
const MISSED_AFTER_MS = 2000;

/** What the check knows of one group's subscription on this node. */
export interface WatchedGroup {
  /** Resolves once this node's subscription to the group is active; undefined when none is. */
  subscription: Promise<void> | undefined;
  /** When the subscription was asked for (the node's clock): messages before it were not this node's to receive. */
  since: number;
  /** Newest log entry ID (a message or a change to one) received for the group (or caught up to after a loss). */
  lastSeen: string | undefined;
  /** True while the group is resubscribed after a loss: its events are dropped until its channels resync. */
  recovering: boolean;
}

export interface SubscriptionCheckOptions {
  /** The groups to check now (none while the layer itself is resubscribing). */
  groups: () => Map<string, WatchedGroup>;
  /** The newest message ID of a room's log. */
  newestId: (room: string) => Promise<string | undefined>;
  /** Resubscribes the group and resyncs its channels; `newest` is where they are caught up to. */
  recover: (group: string, state: WatchedGroup, newest: string) => Promise<void>;
  log: FastifyBaseLogger;
  periodMs?: number;
}

/**
 * The check for a subscription lost without notice (a server that dropped a shard channel and
 * said nothing, a client that missed the push): a room whose log holds a message newer than any
 * this node received, old enough to have arrived, is recovered. Costs one XREVRANGE COUNT 1 per
 * subscribed room per period; a false alarm (a message slow to arrive, clocks apart) costs one
 * catch-up read per socket, never a duplicate.
 */
export class SubscriptionCheck {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: SubscriptionCheckOptions) {
    this.timer = setInterval(() => void this.run(), options.periodMs ?? SUBSCRIPTION_CHECK_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async run(): Promise<void> {
    const { groups, newestId, recover, log } = this.options;
    if (this.running) return;
    this.running = true;
    try {
      for (const [group, state] of [...groups()]) {
        const room = roomOfGroup(group);
        if (room === undefined || state.recovering || !state.subscription) continue;
        const newest = await newestId(room).catch(() => undefined);
        if (newest === undefined || !groups().has(group) || !missed(state, newest)) continue;
        log.warn({ group, newest, lastSeen: state.lastSeen }, 'a room subscription lost without notice: resubscribing, its sockets catch up from history');
        await recover(group, state, newest);
      }
    } finally {
      this.running = false;
    }
  }
}

/** True when `newest` should have reached this node by now and has not. */
function missed(state: WatchedGroup, newest: string): boolean {
  const time = messageIdTime(newest);
  const behind = state.lastSeen === undefined ? time >= state.since : compareMessageIds(newest, state.lastSeen) > 0;
  return behind && Date.now() - time >= MISSED_AFTER_MS;
}
