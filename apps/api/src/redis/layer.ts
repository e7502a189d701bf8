import { SERVER_FRAME, compareMessageIds, messageIdTime } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import type { Channel, ChannelLayer, GroupEvent } from '../layer/channel-layer.js';
import { deliverToAll } from '../layer/memory.js';
import type { Metrics } from '../metrics.js';
import { isCluster, type RedisClient } from './client.js';
import { groupChannel, groupOfChannel, nodeInboxChannel } from './keys.js';
import { isRecord, nodeOfChannel, parseEvent, parseJson, toEvent } from './layer-payloads.js';
import { SubscriptionCheck, type WatchedGroup } from './subscription-check.js';

export { nodeOfChannel } from './layer-payloads.js';

/** How often the subscriber connection is pinged: a silent one may be cut off without knowing. */
const SUBSCRIBER_PING_MS = 5000;
interface GroupState extends WatchedGroup {
  members: Set<Channel>;
}

interface LocalChannel {
  channel: Channel;
  /** Number of groups it is in; it leaves the directory at zero. */
  groups: number;
}

export interface RedisLayerOptions {
  /** The command client: publishes. */
  redis: RedisClient;
  /**
   * Where SSUBSCRIBE goes (a subscribed connection runs no other command): a connection of its
   * own on one Redis; on a Redis Cluster, a cluster client with sharded subscribers, which keeps
   * one connection per master that holds a subscribed channel's slot.
   */
  subscriber: Redis | Cluster;
  nodeId: string;
  log: FastifyBaseLogger;
  metrics: Metrics;
  /** The newest message ID of a room (one XREVRANGE COUNT 1), for the check of subscriptions lost without notice. */
  newestId?: (room: string) => Promise<string | undefined>;
  /** Period of that check (SUBSCRIPTION_CHECK_MS). */
  checkMs?: number;
}

/**
 * The channel layer over Redis sharded pub/sub (SPUBLISH / SSUBSCRIBE), in the shape of
 * socket.io's sharded Redis adapter: one subscription per group per node (not per connection),
 * local fan-out from there. Events of a group travel on one sharded channel, in the slot of the
 * room's keys, so every node receives them in the order Redis published them; chat messages are
 * published by the append script itself, in log order. A node delivers its own events only when
 * they come back from Redis, so its sockets see the same order as everyone else's.
 *
 * A subscription can die: the subscriber connection drops; on a cluster, a master fails over or
 * a slot migrates and the server drops the slot's subscriptions (a SUNSUBSCRIBE push). Each time
 * the layer resubscribes every group, dropping events until Redis confirms, then tells every
 * local channel to resync from history: events published meanwhile were lost to this node, and
 * the room history is where they are kept (Centrifugo's rule: the stream is the truth, pub/sub a
 * hint). A loss nobody announced is caught by a periodic check of each room's newest message.
 */
export class RedisChannelLayer implements ChannelLayer {
  readonly distributed = true;
  private readonly groups = new Map<string, GroupState>();
  private readonly channels = new Map<string, LocalChannel>();
  private readonly inbox: string;
  private readonly recoveredListeners: Array<() => void> = [];
  private readonly pinger: NodeJS.Timeout;
  private counter = 0;
  /** Counts resubscription rounds: a round overtaken by a newer one leaves the rest to it. */
  private epoch = 0;
  /** True while subscribed to everything it should be. */
  private live = false;
  private started = false;
  private closing = false;
  private markStarted!: () => void;
  private readonly startedPromise = new Promise<void>((resolve) => (this.markStarted = resolve));

  private readonly check: SubscriptionCheck | undefined;

  private constructor(private readonly options: RedisLayerOptions) {
    const { subscriber } = options;
    this.inbox = nodeInboxChannel(options.nodeId);
    subscriber.on('smessage', (channel: string, payload: string) => this.dispatch(channel, payload));
    if (isCluster(subscriber)) {
      // ioredis (6.0.0 and later) replaces a shard's subscriber after a failover and, on a
      // SUNSUBSCRIBE push (slot migrated), re-reads the slots; either way it resubscribes and
      // then says so. Its resubscription is not awaited there: the layer's own is.
      subscriber.on('ready', () => void this.subscribeAll());
      subscriber.on('subscribersReady', () => {
        if (this.started) void this.subscribeAll();
      });
    } else {
      subscriber.on('close', () => {
        this.live = false;
      });
      subscriber.on('ready', () => void this.subscribeAll());
    }
    this.pinger = setInterval(() => this.pingSubscriber(), SUBSCRIBER_PING_MS);
    this.pinger.unref();
    this.check = options.newestId
      ? new SubscriptionCheck({
          groups: () => (this.live && !this.closing ? this.groups : new Map()),
          newestId: options.newestId,
          recover: (group, state, newest) => this.recoverGroup(group, state as GroupState, newest),
          log: options.log,
          ...(options.checkMs === undefined ? {} : { periodMs: options.checkMs }),
        })
      : undefined;
  }

  /** A layer whose node inbox is subscribed; resolves once it receives events. */
  static async create(options: RedisLayerOptions): Promise<RedisChannelLayer> {
    const layer = new RedisChannelLayer(options);
    if (options.subscriber.status === 'ready') void layer.subscribeAll();
    await layer.startedPromise;
    return layer;
  }

  get nodeId(): string {
    return this.options.nodeId;
  }

  /** True while the subscriber connection is up and subscribed to every group with a member. */
  isLive(): boolean {
    return this.live;
  }

  /** Runs `listener` each time the layer is back after losing its connection. */
  onRecovered(listener: () => void): void {
    this.recoveredListeners.push(listener);
  }

  newChannelName(prefix = 'conn'): string {
    this.counter += 1;
    // Django Channels' form: the node before `!`, so `send` knows where a channel lives.
    return `${prefix}.${this.options.nodeId}!${this.counter}`;
  }

  async groupAdd(group: string, channel: Channel): Promise<void> {
    let state = this.groups.get(group);
    if (!state) {
      state = { members: new Set(), subscription: undefined, since: Date.now(), lastSeen: undefined, recovering: false };
      this.groups.set(group, state);
    }
    if (!state.members.has(channel)) {
      state.members.add(channel);
      const local = this.channels.get(channel.name);
      if (local) local.groups += 1;
      else this.channels.set(channel.name, { channel, groups: 1 });
    }
    state.subscription ??= this.subscribe(group, state);
    await state.subscription;
  }

  async groupDiscard(group: string, channel: Channel): Promise<void> {
    const state = this.groups.get(group);
    if (!state?.members.delete(channel)) return;
    const local = this.channels.get(channel.name);
    if (local && --local.groups === 0) this.channels.delete(channel.name);
    if (state.members.size > 0) return;
    this.groups.delete(group);
    // Sent before any later SUBSCRIBE of the same group on the same connection, so a quick
    // leave-and-rejoin ends subscribed.
    if (state.subscription) {
      await this.options.subscriber.sunsubscribe(groupChannel(group)).then(
        () => undefined,
        (error: unknown) => this.options.log.debug({ err: error, group }, 'unsubscribe failed; the connection is gone anyway'),
      );
    }
  }

  async groupSend(group: string, event: GroupEvent): Promise<void> {
    await this.options.redis.spublish(groupChannel(group), JSON.stringify(event));
  }

  async send(channelName: string, event: GroupEvent): Promise<void> {
    const node = nodeOfChannel(channelName);
    if (node === undefined) return;
    await this.options.redis.spublish(nodeInboxChannel(node), JSON.stringify({ to: channelName, event }));
  }

  localGroupSize(group: string): number {
    return this.groups.get(group)?.members.size ?? 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.live = false;
    clearInterval(this.pinger);
    this.check?.stop();
    this.groups.clear();
    this.channels.clear();
    const { subscriber } = this.options;
    await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private subscribe(group: string, state: GroupState): Promise<void> {
    const subscription = this.options.subscriber.ssubscribe(groupChannel(group)).then(() => undefined);
    // A failed subscription is forgotten so that the next groupAdd tries again.
    subscription.catch(() => {
      if (state.subscription === subscription) state.subscription = undefined;
    });
    return subscription;
  }

  /**
   * On every (re)connection, and on a cluster after every resubscription of a shard: subscribes
   * the inbox and every group with a local member (one command on one Redis, one per channel on a
   * cluster, where a command's channels must share a slot); once Redis confirms, the layer is
   * live and, after a loss, tells channels to resync. Events are dropped from now until then.
   */
  private async subscribeAll(): Promise<void> {
    if (this.closing) return;
    const { subscriber, log, metrics } = this.options;
    this.live = false;
    const epoch = ++this.epoch;
    const groups = [...this.groups];
    const channels = [this.inbox, ...groups.map(([group]) => groupChannel(group))];
    try {
      if (isCluster(subscriber)) await Promise.all(channels.map((channel) => subscriber.ssubscribe(channel)));
      else await subscriber.ssubscribe(...channels);
    } catch (error) {
      if (isCluster(subscriber)) {
        // A shard still failing over: try again shortly (the slots are re-read meanwhile).
        log.warn({ err: error }, 'could not resubscribe to the Redis Cluster; trying again');
        setTimeout(() => {
          if (epoch === this.epoch) void this.subscribeAll();
        }, 500).unref();
      } else {
        log.warn({ err: error }, 'could not resubscribe to Redis; reconnecting to try again');
        subscriber.disconnect(true);
      }
      return;
    }
    // A newer round began meanwhile (another loss): that one finishes the job.
    if (epoch !== this.epoch) return;
    const subscribed = Promise.resolve();
    const now = Date.now();
    for (const [, state] of groups) {
      state.subscription = subscribed;
      // What was missed is caught up by the resync below; the check watches from here on.
      state.lastSeen = undefined;
      state.since = now;
    }
    this.live = true;
    if (!this.started) {
      this.started = true;
      this.markStarted();
      return;
    }
    metrics.redisReconnects += 1;
    log.info({ groups: groups.length, channels: this.channels.size }, 'Redis subscription back: local sockets catch up from history');
    for (const { channel } of this.channels.values()) resyncChannel(channel, log);
    for (const listener of this.recoveredListeners) listener();
  }

  /** Resubscribes one group, dropping its events until Redis confirms, then resyncs its channels. */
  private async recoverGroup(group: string, state: GroupState, newest: string): Promise<void> {
    state.recovering = true;
    try {
      await this.options.subscriber.ssubscribe(groupChannel(group));
    } catch (error) {
      this.options.log.warn({ err: error, group }, 'could not resubscribe the room; the next check tries again');
      state.recovering = false;
      return;
    }
    state.recovering = false;
    if (this.groups.get(group) !== state) return;
    state.lastSeen = newest;
    this.options.metrics.redisReconnects += 1;
    for (const channel of state.members) resyncChannel(channel, this.options.log);
  }

  /** A subscriber that no longer answers is cut, so that it reconnects and the gap is caught up. */
  private pingSubscriber(): void {
    const { subscriber, log } = this.options;
    // A cluster's shard subscribers are watched by ioredis and by the subscription check.
    if (isCluster(subscriber) || subscriber.status !== 'ready' || this.closing) return;
    subscriber.ping().catch((error: unknown) => {
      if (this.closing || subscriber.status !== 'ready') return;
      log.warn({ err: error }, 'Redis subscriber does not answer; reconnecting');
      subscriber.disconnect(true);
    });
  }

  /** Hands one event from Redis to its local channels. Never throws: a bad payload is logged and dropped. */
  private dispatch(redisChannel: string, payload: string): void {
    // Between a resubscription and the resync that follows it, events are dropped: ioredis hands
    // out the events right behind the SUBSCRIBE reply before the code awaiting it runs, and a
    // socket given one would resync from past the gap. Dropping loses nothing: a chat message
    // here was stored before the resync reads history, and presence is announced again.
    if (!this.live) return;
    if (redisChannel === this.inbox) {
      this.dispatchDirect(payload);
      return;
    }
    const group = groupOfChannel(redisChannel);
    const state = group === undefined ? undefined : this.groups.get(group);
    if (!state || state.members.size === 0 || state.recovering) return;
    const event = parseEvent(payload);
    if (!event) {
      this.options.log.warn({ channel: redisChannel, bytes: payload.length }, 'dropped a malformed event from Redis');
      return;
    }
    if (event.id !== undefined) {
      if (event.type === SERVER_FRAME.chatMessage) this.options.metrics.observeFanOut(Date.now() - messageIdTime(event.id));
      // Every entry of the log counts (changes to messages too): the check compares with the log's newest entry.
      if (state.lastSeen === undefined || compareMessageIds(event.id, state.lastSeen) > 0) state.lastSeen = event.id;
    }
    deliverToAll(state.members, event);
  }

  private dispatchDirect(payload: string): void {
    const envelope = parseJson(payload);
    const event = isRecord(envelope) ? toEvent(envelope.event) : undefined;
    if (!isRecord(envelope) || typeof envelope.to !== 'string' || !event) {
      this.options.log.warn({ bytes: payload.length }, 'dropped a malformed direct event from Redis');
      return;
    }
    deliverToAll(this.channels.has(envelope.to) ? [this.channels.get(envelope.to)!.channel] : undefined, event);
  }
}

function resyncChannel(channel: Channel, log: FastifyBaseLogger): void {
  try {
    channel.resync?.();
  } catch (error) {
    log.warn({ err: error, channel: channel.name }, 'channel could not resync');
  }
}
