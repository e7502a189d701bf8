import { isMessageId } from '@roomcast/protocol';
import type { GroupEvent } from '../layer/channel-layer.js';

/**
 * What arrives from Redis on the layer's channels, read defensively: a payload that is not one
 * of ours (another program on the channel, a bug) is undefined here, and the layer logs and
 * drops it rather than throwing into a socket.
 */

/** The node of a channel name made by `newChannelName`, or undefined for another form. */
export function nodeOfChannel(name: string): string | undefined {
  const bang = name.lastIndexOf('!');
  if (bang <= 0) return undefined;
  return name.slice(name.lastIndexOf('.', bang) + 1, bang);
}

export const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const parseEvent = (payload: string): GroupEvent | undefined => toEvent(parseJson(payload));

/** The GroupEvent a payload carries, checked field by field, or undefined. */
export function toEvent(value: unknown): GroupEvent | undefined {
  if (!isRecord(value) || typeof value.type !== 'string' || typeof value.frame !== 'string' || !value.frame.endsWith('}')) return undefined;
  const optional = (key: string): boolean => value[key] === undefined || typeof value[key] === 'string';
  if (value.id !== undefined && !isMessageId(value.id)) return undefined;
  if (!optional('sender') || !optional('nonce')) return undefined;
  if (value.skipSender !== undefined && typeof value.skipSender !== 'boolean') return undefined;
  return value as unknown as GroupEvent;
}
