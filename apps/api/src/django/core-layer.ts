import type { Redis, Result } from 'ioredis';
import { LAYER_EXPIRY_S, LayerCodec, RANDOM_PREFIX_BYTES, type LayerMessage } from './codec.js';

/**
 * The parts of channels_redis's `RedisChannelLayer` (core.py) Roomcast needs, on the same keys
 * and with the same bytes, so a reader can hold this file beside core.py:
 *
 * - a channel is a sorted set `prefix + non_local_name(channel)` of serialized messages scored
 *   by `time.time()` (seconds), expiring after `expiry`; a process-specific channel `a.b!c`
 *   lives in the set of `a.b!` and each message names its channel(s) in `__asgi_channel__`;
 * - a group is the sorted set `prefix:group:NAME` of channel names scored by when they joined,
 *   expiring after `group_expiry`;
 * - `receive` pops the lowest score and keeps it in `KEY$inflight` until it is processed, and
 *   moves whatever is in flight back first, so a receiver that died mid-message loses nothing.
 *
 * Where channels_redis is silent (a channel over capacity drops the message and logs at info)
 * this module reports: `groupSend` answers how many channels were over capacity.
 */

/** channels_redis's defaults, which Roomcast assumes the Django project keeps. */
export const GROUP_EXPIRY_S = 86_400;
export const CHANNEL_CAPACITY = 100;

/** core.py `_brpop_with_clean`'s cleanup script, then a ZPOPMIN of up to ARGV[1] messages into the backup queue. */
const RECEIVE_SCRIPT = `
local backed_up = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
for i = #backed_up, 1, -2 do
  redis.call('ZADD', KEYS[1], backed_up[i], backed_up[i - 1])
end
redis.call('DEL', KEYS[2])
local popped = redis.call('ZPOPMIN', KEYS[1], ARGV[1])
for i = 1, #popped, 2 do
  redis.call('ZADD', KEYS[2], popped[i + 1], popped[i])
end
return popped
`;

/** core.py `group_send`'s script: add to each channel under capacity, count the others. */
const GROUP_SEND_SCRIPT = `
local over_capacity = 0
local current_time = ARGV[#ARGV - 1]
local expiry = ARGV[#ARGV]
for i=1,#KEYS do
  if redis.call('ZCOUNT', KEYS[i], '-inf', '+inf') < tonumber(ARGV[i + #KEYS]) then
    redis.call('ZADD', KEYS[i], current_time, ARGV[i])
    redis.call('EXPIRE', KEYS[i], expiry)
  else
    over_capacity = over_capacity + 1
  end
end
return over_capacity
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    djangoReceiveBuffer(queue: string, inflight: string, count: number): Result<Buffer[], Context>;
    djangoGroupSend(numberOfKeys: number, ...args: Array<string | Buffer>): Result<number, Context>;
  }
}

let lastTime = 0;
/**
 * `time.time()`: seconds, with a fraction, and here never the same twice: a channel is a sorted
 * set ordered by this score, and two messages with equal scores would be ordered by their random
 * prefix bytes instead of by when they were sent (Date.now() alone ties within a millisecond).
 */
function now(): number {
  const time = (performance.timeOrigin + performance.now()) / 1000;
  lastTime = time > lastTime ? time : lastTime + 1e-6;
  return lastTime;
}

/** BaseChannelLayer.non_local_name: `a.b!c` is stored under `a.b!`. */
export function nonLocalName(channel: string): string {
  const bang = channel.indexOf('!');
  return bang === -1 ? channel : channel.slice(0, bang + 1);
}

export interface ReceivedMember {
  /** The member exactly as stored (prefix included): what `ack` removes. */
  bytes: Buffer;
  score: number;
}

export class CoreLayer {
  readonly codec: LayerCodec;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    encryptionKeys: readonly string[],
  ) {
    this.codec = new LayerCodec(encryptionKeys, RANDOM_PREFIX_BYTES);
    redis.defineCommand('djangoReceive', { numberOfKeys: 2, lua: RECEIVE_SCRIPT });
    redis.defineCommand('djangoGroupSend', { lua: GROUP_SEND_SCRIPT });
  }

  /** core.py `_group_key`. */
  groupKey(group: string): string {
    return `${this.prefix}:group:${group}`;
  }

  /** The sorted set a channel's messages are kept in. */
  channelKey(channel: string): string {
    return this.prefix + nonLocalName(channel);
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    await this.groupAddMany([[group, channel]]);
  }

  /** `group_add` of many `[group, channel]` pairs in one round trip (the membership refresh). */
  async groupAddMany(members: ReadonlyArray<readonly [group: string, channel: string]>): Promise<void> {
    if (members.length === 0) return;
    const pipeline = this.redis.pipeline();
    const time = now();
    for (const [group, channel] of members) pipeline.zadd(this.groupKey(group), time, channel).expire(this.groupKey(group), GROUP_EXPIRY_S);
    const replies = await pipeline.exec();
    const failure = replies?.find(([error]) => error !== null)?.[0];
    if (failure) throw failure;
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    await this.redis.zrem(this.groupKey(group), channel);
  }

  /**
   * `group_send`: one serialized copy per channel key, naming its channels in `__asgi_channel__`.
   * Channels whose name starts with `skipNonLocal` (our own) get nothing. Resolves with the
   * number of channels over capacity, which did not get the message.
   */
  async groupSend(group: string, message: LayerMessage, skipNonLocal?: string): Promise<{ channels: number; overCapacity: number }> {
    const key = this.groupKey(group);
    const time = now();
    const replies = await this.redis.multi().zremrangebyscore(key, '0', String(Math.floor(time) - GROUP_EXPIRY_S)).zrange(key, '0', '-1').exec();
    const members = (replies?.[1]?.[1] as string[] | undefined) ?? [];
    const names = members.filter((name) => skipNonLocal === undefined || nonLocalName(name) !== skipNonLocal);
    if (names.length === 0) return { channels: 0, overCapacity: 0 };
    // _map_channel_keys_to_connection: channels sharing a key share one copy.
    const byKey = new Map<string, string[]>();
    for (const name of names) {
      const channelKey = this.channelKey(name);
      const list = byKey.get(channelKey);
      if (list) list.push(name);
      else byKey.set(channelKey, [name]);
    }
    const keys = [...byKey.keys()];
    const expired = this.redis.pipeline();
    for (const channelKey of keys) expired.zremrangebyscore(channelKey, '0', String(Math.floor(time) - LAYER_EXPIRY_S));
    await expired.exec();
    const payloads = keys.map((channelKey) => this.codec.serialize({ ...message, __asgi_channel__: byKey.get(channelKey)! }));
    const args: Array<string | Buffer> = [...keys, ...payloads, ...keys.map(() => String(CHANNEL_CAPACITY)), String(time), String(LAYER_EXPIRY_S)];
    const overCapacity = await this.redis.djangoGroupSend(keys.length, ...args);
    return { channels: names.length, overCapacity };
  }

  /**
   * `receive` for a whole channel key at once: puts back what a previous receiver left in flight,
   * then moves up to `count` of the oldest messages in flight and returns them. Each stays in
   * flight until `ack`.
   */
  async receive(nonLocal: string, count: number): Promise<ReceivedMember[]> {
    const queue = this.prefix + nonLocal;
    const flat = await this.redis.djangoReceiveBuffer(queue, inflightKey(queue), count);
    const received: ReceivedMember[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) received.push({ bytes: flat[i]!, score: Number(flat[i + 1]!.toString()) });
    return received;
  }

  /** Done with these members: they leave the backup queue (core.py `_clean_receive_backup`). */
  async ack(nonLocal: string, members: readonly ReceivedMember[]): Promise<void> {
    if (members.length === 0) return;
    await this.redis.zrem(inflightKey(this.prefix + nonLocal), ...members.map((member) => member.bytes));
  }
}

/** core.py `_backup_channel_name`. */
const inflightKey = (queue: string): string => `${queue}$inflight`;
