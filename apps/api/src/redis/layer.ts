import { SERVER_FRAME, isMessageId, messageIdTime } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { Channel, ChannelLayer, GroupEvent } from '../layer/channel-layer.js';
import { deliverToAll } from '../layer/memory.js';
import type { Metrics } from '../metrics.js';
import { groupChannel, groupOfChannel, nodeInboxChannel } from './keys.js';

/** How often the subscriber connection is pinged: a silent one may be cut off without knowing. */
const SUBSCRIBER_PING_MS = 5000;

interface GroupState {
  members: Set<Channel>;
  /** Resolves once this node's subscription to the group is active; undefined when none is. */
  subscription: Promise<void> | undefined;
}

interface LocalChannel {
  channel: Channel;
  /** Number of groups it is in; it leaves the directory at zero. */
  groups: number;
}

export interface RedisLayerOptions {
  /** The command client: publishes. */
  redis: Redis;
  /** A connection of its own for SUBSCRIBE (a subscribed connection runs no other command). */
  subscriber: Redis;
  nodeId: string;
  log: FastifyBaseLogger;
  metrics: Metrics;
}

/**
 * The channel layer over Redis pub/sub, in the shape of socket.io's Redis adapter: one
 * subscription per group per node (not per connection), local fan-out from there. Events of a
 * group travel on one Redis channel and one subscriber connection, so every node receives them
 * in the order Redis published them; chat messages are published by the append script itself,
 * in log order. A node delivers its own events only when they come back from Redis, so its
 * sockets see the same order as everyone else's.
 *
 * When the subscriber connection drops, the layer resubscribes by itself once Redis is back and
 * then tells every local channel to resync from history: events published meanwhile were lost
 * to this node, and the room history is where they are kept.
 */
export class RedisChannelLayer implements ChannelLayer {
  readonly distributed = true;
  private readonly groups = new Map<string, GroupState>();
  private readonly channels = new Map<string, LocalChannel>();
  private readonly inbox: string;
  private readonly recoveredListeners: Array<() => void> = [];
  private readonly pinger: NodeJS.Timeout;
  private counter = 0;
  /** True while subscribed to everything it should be. */
  private live = false;
  private started = false;
  private closing = false;
  private markStarted!: () => void;
  private readonly startedPromise = new Promise<void>((resolve) => (this.markStarted = resolve));

  private constructor(private readonly options: RedisLayerOptions) {
    const { subscriber } = options;
    this.inbox = nodeInboxChannel(options.nodeId);
    subscriber.on('message', (channel: string, payload: string) => this.dispatch(channel, payload));
    subscriber.on('close', () => {
      this.live = false;
    });
    subscriber.on('ready', () => void this.subscribeAll());
    this.pinger = setInterval(() => this.pingSubscriber(), SUBSCRIBER_PING_MS);
    this.pinger.unref();
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
      state = { members: new Set(), subscription: undefined };
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
      await this.options.subscriber.unsubscribe(groupChannel(group)).then(
        () => undefined,
        (error: unknown) => this.options.log.debug({ err: error, group }, 'unsubscribe failed; the connection is gone anyway'),
      );
    }
  }

  async groupSend(group: string, event: GroupEvent): Promise<void> {
    await this.options.redis.publish(groupChannel(group), JSON.stringify(event));
  }

  async send(channelName: string, event: GroupEvent): Promise<void> {
    const node = nodeOfChannel(channelName);
    if (node === undefined) return;
    await this.options.redis.publish(nodeInboxChannel(node), JSON.stringify({ to: channelName, event }));
  }

  localGroupSize(group: string): number {
    return this.groups.get(group)?.members.size ?? 0;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.live = false;
    clearInterval(this.pinger);
    this.groups.clear();
    this.channels.clear();
    const { subscriber } = this.options;
    await subscriber.quit().catch(() => subscriber.disconnect());
  }

  private subscribe(group: string, state: GroupState): Promise<void> {
    const subscription = this.options.subscriber.subscribe(groupChannel(group)).then(() => undefined);
    // A failed subscription is forgotten so that the next groupAdd tries again.
    subscription.catch(() => {
      if (state.subscription === subscription) state.subscription = undefined;
    });
    return subscription;
  }

  /**
   * On every (re)connection: subscribes the inbox and every group with a local member in one
   * command; once Redis confirms, the layer is live and, after a loss, tells channels to resync.
   */
  private async subscribeAll(): Promise<void> {
    if (this.closing) return;
    const { subscriber, log, metrics } = this.options;
    const groups = [...this.groups];
    try {
      await subscriber.subscribe(this.inbox, ...groups.map(([group]) => groupChannel(group)));
    } catch (error) {
      log.warn({ err: error }, 'could not resubscribe to Redis; reconnecting to try again');
      subscriber.disconnect(true);
      return;
    }
    const subscribed = Promise.resolve();
    for (const [, state] of groups) state.subscription = subscribed;
    this.live = true;
    if (!this.started) {
      this.started = true;
      this.markStarted();
      return;
    }
    metrics.redisReconnects += 1;
    log.info({ groups: groups.length, channels: this.channels.size }, 'Redis subscription back: local sockets catch up from history');
    for (const { channel } of this.channels.values()) {
      try {
        channel.resync?.();
      } catch (error) {
        log.warn({ err: error, channel: channel.name }, 'channel could not resync');
      }
    }
    for (const listener of this.recoveredListeners) listener();
  }

  /** A subscriber that no longer answers is cut, so that it reconnects and the gap is caught up. */
  private pingSubscriber(): void {
    const { subscriber, log } = this.options;
    if (subscriber.status !== 'ready' || this.closing) return;
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
    const members = group === undefined ? undefined : this.groups.get(group)?.members;
    if (!members || members.size === 0) return;
    const event = parseEvent(payload);
    if (!event) {
      this.options.log.warn({ channel: redisChannel, bytes: payload.length }, 'dropped a malformed event from Redis');
      return;
    }
    if (event.type === SERVER_FRAME.chatMessage && event.id !== undefined) {
      this.options.metrics.observeFanOut(Date.now() - messageIdTime(event.id));
    }
    deliverToAll(members, event);
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

/** The node of a channel name made by `newChannelName`, or undefined for another form. */
export function nodeOfChannel(name: string): string | undefined {
  const bang = name.lastIndexOf('!');
  if (bang <= 0) return undefined;
  return name.slice(name.lastIndexOf('.', bang) + 1, bang);
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const parseEvent = (payload: string): GroupEvent | undefined => toEvent(parseJson(payload));

/** The GroupEvent a payload carries, checked field by field, or undefined. */
function toEvent(value: unknown): GroupEvent | undefined {
  if (!isRecord(value) || typeof value.type !== 'string' || typeof value.frame !== 'string' || !value.frame.endsWith('}')) return undefined;
  const optional = (key: string): boolean => value[key] === undefined || typeof value[key] === 'string';
  if (value.id !== undefined && !isMessageId(value.id)) return undefined;
  if (!optional('sender') || !optional('nonce')) return undefined;
  if (value.skipSender !== undefined && typeof value.skipSender !== 'boolean') return undefined;
  return value as unknown as GroupEvent;
}
