import type { Redis } from 'ioredis';
import { LayerCodec, type LayerMessage } from './codec.js';

/**
 * The parts of channels_redis's `RedisPubSubChannelLayer` (pubsub.py) Roomcast needs: a group is
 * the Redis pub/sub channel `prefix + "__group__" + NAME` (`_get_group_channel_name`), a
 * `group_send` is one PUBLISH of the serialized message, and group membership is nothing but a
 * subscription. Nothing is stored: a message published while nobody listens is gone, in Django
 * as here.
 */
export class PubSubLayer {
  readonly codec: LayerCodec;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    encryptionKeys: readonly string[],
  ) {
    this.codec = new LayerCodec(encryptionKeys, 0);
  }

  /** pubsub.py `_get_group_channel_name`. */
  groupChannel(group: string): string {
    return `${this.prefix}__group__${group}`;
  }

  /** The group a pub/sub channel carries, or undefined. */
  groupOf(channel: string): string | undefined {
    const head = `${this.prefix}__group__`;
    return channel.startsWith(head) ? channel.slice(head.length) : undefined;
  }

  /** A PSUBSCRIBE pattern matching every group whose name starts with `groupPrefix`. */
  groupPattern(groupPrefix: string): string {
    return `${globEscape(this.groupChannel(groupPrefix))}*`;
  }

  async groupSend(group: string, message: LayerMessage): Promise<number> {
    return this.redis.publish(this.groupChannel(group), this.codec.serialize(message));
  }
}

/** Redis glob patterns treat `*?[]\` specially; a prefix is matched literally. */
const globEscape = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');
