import type { ChatMessage } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import type { DjangoConfig } from '../config.js';
import type { Metrics } from '../metrics.js';
import type { Presence } from '../presence/presence.js';
import { REDIS_CLIENT_OPTIONS, watchConnection } from '../redis/client.js';
import type { Publisher } from '../rooms/publisher.js';
import type { RoomRegistry } from '../registry/room-registry.js';
import { checkRoomAccess, isRoomRefusal } from '../rooms/access.js';
import { LayerCodec, LAYER_EXPIRY_S, UndecodableMessage, type LayerMessage } from './codec.js';
import { CoreLayer, type ReceivedMember } from './core-layer.js';
import { inboundDraft, outboundEvent, type DropReason } from './events.js';
import { Lease } from './lease.js';
import { PubSubLayer } from './pubsub-layer.js';

/** Periods of the bridge's loops; tests shorten some. */
export interface DjangoTiming {
  /** Lease on receiving: a dead receiver is replaced within this. */
  leaseMs: number;
  /** An idle receiver looks for new messages this often (and a node without the lease for the lease). */
  pollMs: number;
  /** Rooms with a socket are looked up this often, to join their Django groups. */
  membershipMs: number;
  /** Every membership is renewed this often: well inside `group_expiry`, and soon after a `flush()`. */
  refreshMs: number;
  /** Wait after a failure (Redis away) before trying again. */
  retryMs: number;
}

export const DJANGO_TIMING: DjangoTiming = { leaseMs: 2000, pollMs: 20, membershipMs: 500, refreshMs: 10_000, retryMs: 500 };

/** Messages taken from the channel in one step. */
const RECEIVE_BATCH = 100;
/** Stored messages sent to Django together. */
const SEND_BATCH = 64;
/** Stored messages waiting to be sent to Django while its Redis is away; beyond this the oldest go. */
const OUTBOX_LIMIT = 10_000;

/**
 * How long the key of a stored Django message is remembered. A redelivery (a batch left in flight
 * by a receiver that died, or while Django's Redis was away) is recognised within this; a message
 * queued longer ago than this is dropped as expired rather than risk storing it twice. Shorter
 * than the 24 hours of an Idempotency-Key: every Django message leaves one such record.
 */
export const REMEMBER_MS = 60 * 60 * 1000;

/** What tells the publisher a message came from here, so that it is not sent back. */
export const DJANGO_BRIDGE = 'django';

/** Keys of our own in Django's Redis, outside the layer's prefix so that `flush()` keeps them. */
const leaseKey = (cluster: string): string => `roomcast:django:${cluster}:receiver`;
const joinedGroupsKey = (cluster: string): string => `roomcast:django:${cluster}:groups`;

export interface DjangoBridgeOptions {
  config: DjangoConfig;
  /** Shared by every node of one Roomcast cluster (one channel name, one lease). */
  clusterId: string;
  nodeId: string;
  publisher: Publisher;
  presence: Presence;
  /** Claimed rooms: Django is held to the same access rules as everyone (see `store`, `onStored`). */
  rooms: RoomRegistry;
  metrics: Metrics;
  log: FastifyBaseLogger;
  timing?: Partial<DjangoTiming>;
  /** Whether the cluster ends with this node (embedded backend): its memberships go on close. */
  leaveOnClose: boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Roomcast as a member of a Django project's channels_redis layer (docs/django.md).
 *
 * Django -> Roomcast: one node of the cluster at a time (the lease holder) receives, and hands
 * each chat event to the one publish path. On the core layer the whole cluster is the one
 * channel `roomcast.<cluster>!<room>` per room, all stored under one key, joined to the group of
 * every room with a socket; messages stay in flight until stored, and are stored with a key made
 * of their 12 random bytes, so a receiver killed anywhere between pop and acknowledgement costs a
 * redelivery that stores nothing twice. On the pubsub layer the holder subscribes to every room
 * group by pattern.
 *
 * Roomcast -> Django: the publisher tells the bridge of every message stored on this node (each
 * is stored on exactly one node), except those that came from Django, and the bridge sends them
 * in order with `group_send`, holding them while Django's Redis is away.
 */
export class DjangoBridge {
  private readonly timing: DjangoTiming;
  private readonly redis: Redis;
  private readonly subscriber: Redis | undefined;
  private readonly core: CoreLayer | undefined;
  private readonly pubsub: PubSubLayer | undefined;
  private readonly lease: Lease;
  /** `roomcast.<cluster>!`: where every room's channel keeps its messages. */
  private readonly nonLocal: string;
  private readonly outbox: ChatMessage[] = [];
  private draining = false;
  private closing = false;
  private readonly loops: Array<Promise<void>> = [];
  /** Groups this cluster joined, as the current lease holder knows them (core layer). */
  private joined: Set<string> | undefined;
  private refreshAt = 0;
  private membershipAt = 0;
  private failing = false;
  private subscribed = false;
  /** Pub/sub messages are handled one after the other, in the order Redis delivered them. */
  private inboundChain: Promise<void> = Promise.resolve();
  private readonly wake: { resolve?: () => void } = {};

  constructor(private readonly options: DjangoBridgeOptions) {
    const { config, clusterId, nodeId, log } = options;
    this.timing = { ...DJANGO_TIMING, ...options.timing };
    this.redis = new Redis(config.redisUrl, { ...REDIS_CLIENT_OPTIONS, connectionName: `roomcast-django-${nodeId}` });
    watchConnection(this.redis, 'django', log);
    this.nonLocal = `roomcast.${clusterId}!`;
    this.lease = new Lease(this.redis, leaseKey(clusterId), nodeId, this.timing.leaseMs);
    if (config.layer === 'core') {
      this.core = new CoreLayer(this.redis, config.layerPrefix, config.encryptionKeys);
    } else {
      this.pubsub = new PubSubLayer(this.redis, config.layerPrefix, config.encryptionKeys);
      this.subscriber = this.redis.duplicate({ connectionName: `roomcast-django-sub-${nodeId}` });
      watchConnection(this.subscriber, 'django-subscriber', log);
      this.subscriber.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => {
        if (!this.lease.valid()) return;
        this.inboundChain = this.inboundChain.then(() => this.receivePubSub(channel.toString(), payload));
      });
    }
    options.publisher.onStored((message, bridge) => {
      if (bridge === DJANGO_BRIDGE) return;
      // A private room's messages never leave for Django, whose groups anyone's consumer may join.
      // Unclaimed rooms (known here: this node checked access before storing) go straight out.
      if (!options.rooms.isClaimed(message.room)) this.forward(message);
      else {
        options.rooms.get(message.room).then(
          (record) => {
            if (record?.visibility !== 'private') this.forward(message);
          },
          (error: unknown) => this.options.log.warn({ err: error, room: message.room }, 'not sent to Django: room settings unreadable'),
        );
      }
    });
    this.loops.push(this.receiveLoop());
  }

  /** The channel name of a room in the Django layer (core layer). */
  channelOf(room: string): string {
    return this.nonLocal + room;
  }

  groupOf(room: string): string {
    return this.options.config.groupPrefix + room;
  }

  /** True while Django's Redis answers (`/readyz`). */
  async ready(): Promise<boolean> {
    if (this.redis.status !== 'ready') return false;
    return (await this.redis.ping()) === 'PONG';
  }

  // ------------------------------------------------------------------ Django -> Roomcast

  private async receiveLoop(): Promise<void> {
    while (!this.closing) {
      let busy = false;
      try {
        const leader = await this.lease.hold();
        if (this.core) busy = leader && (await this.receiveCore());
        else await this.followLease(leader);
        if (leader) await this.keepMemberships();
        else this.joined = undefined;
        this.recovered();
      } catch (error) {
        this.failed(error, 'receiving from Django');
        await this.pause(this.timing.retryMs);
        continue;
      }
      if (!busy) await this.pause(this.lease.valid() && this.core ? this.timing.pollMs : Math.min(this.timing.leaseMs / 4, 250));
    }
  }

  /** One batch from the cluster's channel; true when there was one (look again at once). */
  private async receiveCore(): Promise<boolean> {
    const core = this.core!;
    const batch = await core.receive(this.nonLocal, RECEIVE_BATCH);
    if (batch.length === 0) return false;
    for (const member of batch) {
      // Renewed as it goes (a round trip only when due). Lost: a successor may be receiving, so
      // stop; the rest of the batch is put back from the backup queue by whoever receives next.
      if (!(await this.lease.hold())) return false;
      await this.storeMember(member);
    }
    await core.ack(this.nonLocal, batch);
    return true;
  }

  private async storeMember(member: ReceivedMember): Promise<void> {
    if (Date.now() - member.score * 1000 > REMEMBER_MS) {
      this.drop('expired', 'queued longer ago than the bridge remembers what it stored');
      return;
    }
    let message: LayerMessage;
    try {
      message = this.core!.codec.deserialize(member.bytes);
    } catch (error) {
      this.drop(error instanceof UndecodableMessage ? error.reason : 'not_msgpack', (error as Error).message);
      return;
    }
    const channels = message.__asgi_channel__;
    const names = typeof channels === 'string' ? [channels] : Array.isArray(channels) ? channels : [];
    if (names.length === 0) this.drop('bad_channel', 'no __asgi_channel__');
    delete message.__asgi_channel__;
    const id = LayerCodec.memberId(member.bytes);
    for (const name of names) {
      if (typeof name !== 'string' || !name.startsWith(this.nonLocal)) {
        this.drop('bad_channel', `not one of ours: ${JSON.stringify(String(name).slice(0, 100))}`);
        continue;
      }
      const room = name.slice(this.nonLocal.length);
      // Keyed by the member's random bytes: a redelivery after a crash is recognised, not stored again.
      await this.store(message, room, `django:${id}:${room}`);
    }
  }

  private async receivePubSub(channel: string, payload: Buffer): Promise<void> {
    const pubsub = this.pubsub!;
    const group = pubsub.groupOf(channel);
    const { groupPrefix } = this.options.config;
    if (group === undefined || !group.startsWith(groupPrefix)) return;
    let message: LayerMessage;
    try {
      message = pubsub.codec.deserialize(payload);
    } catch (error) {
      this.drop(error instanceof UndecodableMessage ? error.reason : 'not_msgpack', (error as Error).message);
      return;
    }
    try {
      await this.store(message, group.slice(groupPrefix.length));
    } catch (error) {
      // Pub/sub keeps nothing to retry from: the message is lost, and said so.
      this.options.metrics.djangoDropped('unstored');
      this.options.log.warn({ err: error, group }, 'a message from Django could not be stored and is lost (pub/sub keeps no copy)');
    }
  }

  /** Stores one Django event through the publish path, or counts why not. */
  private async store(message: LayerMessage, room: string, dedupeKey?: string): Promise<void> {
    const inbound = inboundDraft(message, room);
    if (inbound.ok === 'own') return;
    if (!inbound.ok) {
      this.drop(inbound.reason, inbound.detail, room);
      return;
    }
    // The event's user is held to the room's rules like anyone: a private room takes Django
    // messages only from its members, a ban holds, and `django` itself is no member.
    try {
      await checkRoomAccess(this.options.rooms, room, { user: inbound.draft.user });
    } catch (error) {
      if (!isRoomRefusal(error)) throw error;
      this.drop('not_allowed', `${inbound.draft.user ?? 'django'} may not post in this room`, room);
      return;
    }
    await this.options.publisher.publish(inbound.draft, {}, dedupeKey, { bridge: DJANGO_BRIDGE, rememberMs: REMEMBER_MS });
    this.options.metrics.djangoReceived += 1;
  }

  /** Pub/sub: the lease holder listens to every room group by pattern; the others do not. */
  private async followLease(leader: boolean): Promise<void> {
    const subscriber = this.subscriber!;
    if (leader === this.subscribed) return;
    const pattern = this.pubsub!.groupPattern(this.options.config.groupPrefix);
    if (leader) await subscriber.psubscribe(pattern);
    else await subscriber.punsubscribe(pattern);
    this.subscribed = leader;
  }

  /**
   * Core layer, lease holder: the cluster's channel is in the group of every room with a socket
   * anywhere in the cluster, added as rooms fill, discarded as they empty, and all renewed every
   * `refreshMs` (a `flush()` in Django empties groups; this puts them back).
   */
  private async keepMemberships(): Promise<void> {
    const core = this.core;
    if (!core || Date.now() < this.membershipAt) return;
    this.membershipAt = Date.now() + this.timing.membershipMs;
    const key = joinedGroupsKey(this.options.clusterId);
    const joined = (this.joined ??= new Set(await this.redis.smembers(key)));
    const online = new Set((await this.options.presence.rooms()).map((entry) => entry.room));
    const refresh = Date.now() >= this.refreshAt;
    const adding = [...online].filter((room) => refresh || !joined.has(room));
    const leaving = [...joined].filter((room) => !online.has(room));
    await core.groupAddMany(adding.map((room) => [this.groupOf(room), this.channelOf(room)] as const));
    if (adding.length > 0) await this.redis.sadd(key, ...adding);
    for (const room of leaving) await core.groupDiscard(this.groupOf(room), this.channelOf(room));
    if (leaving.length > 0) await this.redis.srem(key, ...leaving);
    for (const room of adding) joined.add(room);
    for (const room of leaving) joined.delete(room);
    if (refresh) this.refreshAt = Date.now() + this.timing.refreshMs;
  }

  // ------------------------------------------------------------------ Roomcast -> Django

  /** Queues a stored message for its Django group; sent in order by one loop. */
  forward(message: ChatMessage): void {
    if (this.closing) return;
    if (this.outbox.length >= OUTBOX_LIMIT) {
      this.outbox.shift();
      this.options.metrics.djangoDropped('outbox_full');
    }
    this.outbox.push(message);
    if (!this.draining) {
      this.draining = true;
      this.loops.push(this.drain());
    }
  }

  private async drain(): Promise<void> {
    while (this.outbox.length > 0 && !this.closing) {
      // Django's layer would have expired these by now: sent late, they would show out of place.
      while (this.outbox.length > 0 && Date.now() - this.outbox[0]!.ts > LAYER_EXPIRY_S * 1000) {
        const stale = this.outbox.shift()!;
        this.drop('expired', "held longer than the layer expiry while Django's Redis was away", stale.room);
      }
      // Sent together, in order: one connection carries the commands in the order they are issued.
      const batch = this.outbox.slice(0, SEND_BATCH);
      const results = await Promise.allSettled(batch.map((message) => this.groupSend(message)));
      const failed = batch.filter((_, index) => results[index]!.status === 'rejected');
      this.outbox.splice(0, batch.length, ...failed);
      if (failed.length === 0) {
        this.recovered();
        continue;
      }
      this.failed((results.find((result) => result.status === 'rejected') as PromiseRejectedResult).reason, 'sending to Django');
      await this.pause(this.timing.retryMs);
    }
    this.draining = false;
  }

  private async groupSend(message: ChatMessage): Promise<void> {
    const group = this.groupOf(message.room);
    const event = outboundEvent(message);
    if (this.pubsub) {
      await this.pubsub.groupSend(group, event);
    } else {
      const { overCapacity } = await this.core!.groupSend(group, event, this.nonLocal);
      if (overCapacity > 0) {
        for (let i = 0; i < overCapacity; i += 1) this.options.metrics.djangoDropped('over_capacity');
        this.options.log.warn({ group, channels: overCapacity }, 'Django channels over capacity did not get a message');
      }
    }
    this.options.metrics.djangoSent += 1;
  }

  // ------------------------------------------------------------------ upkeep

  private drop(reason: DropReason, detail: string, room?: string): void {
    this.options.metrics.djangoDropped(reason);
    const level = reason === 'unknown_type' ? 'info' : 'warn';
    this.options.log[level]({ reason, detail, ...(room === undefined ? {} : { room }) }, 'dropped a message from the Django channel layer');
  }

  private failed(error: unknown, doing: string): void {
    if (this.failing || this.closing) return;
    this.failing = true;
    this.options.log.warn({ err: error }, `Django bridge: failed ${doing}; retrying until Django's Redis answers`);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.options.log.info('Django bridge: Django\'s Redis answers again');
  }

  private async pause(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      this.wake.resolve = resolve;
      setTimeout(resolve, ms).unref();
    });
  }

  async close(): Promise<void> {
    // Stored messages still queued get a short chance to reach Django.
    const deadline = Date.now() + 1000;
    while (this.outbox.length > 0 && this.redis.status === 'ready' && Date.now() < deadline) await sleep(10);
    this.closing = true;
    this.wake.resolve?.();
    await Promise.allSettled(this.loops);
    await this.inboundChain;
    try {
      if (this.options.leaveOnClose && this.core && this.joined) {
        for (const room of this.joined) await this.core.groupDiscard(this.groupOf(room), this.channelOf(room));
        await this.redis.del(joinedGroupsKey(this.options.clusterId));
      }
      // The next node takes over at once instead of after the lease runs out.
      if (this.lease.valid()) await this.lease.release();
    } catch (error) {
      this.options.log.debug({ err: error }, 'Django bridge: could not say goodbye');
    }
    this.subscriber?.disconnect();
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
