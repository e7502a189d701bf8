import { MAX_MESSAGE_LENGTH, isMessageId, isRoomName, isUsername, type ChatMessage } from '@roomcast/protocol';
import type { MessageDraft } from '../history/room-history.js';
import type { LayerMessage } from './codec.js';

/**
 * What crosses the bridge, both ways, in the Django tutorial's terms: a `group_send` of
 * `{"type": "chat.message", "message": ...}` to the group `chat_ROOM`.
 */

/** The event types the tutorial consumer handles: `chat.message`, and its older spelling. */
const CHAT_TYPES = new Set(['chat.message', 'chat_message']);
/** The `user` of a message from Django whose event names none (or no valid username). */
export const DJANGO_USER = 'django';

/** Why a layer message was dropped: the label of `roomcast_django_dropped_total`. */
export type DropReason =
  | 'not_msgpack'
  | 'not_a_map'
  | 'not_decrypted'
  | 'unknown_type'
  | 'bad_message'
  | 'too_long'
  | 'bad_channel'
  | 'over_capacity'
  | 'expired'
  | 'not_allowed';

export type Inbound = { ok: true; draft: MessageDraft } | { ok: false; reason: DropReason; detail: string } | { ok: 'own' };

/** The Roomcast message a Django event to room `room` asks for, or why there is none. */
export function inboundDraft(event: LayerMessage, room: string): Inbound {
  if (!isRoomName(room)) return { ok: false, reason: 'bad_channel', detail: `not a room name: ${JSON.stringify(String(room).slice(0, 80))}` };
  if (typeof event.type !== 'string' || !CHAT_TYPES.has(event.type)) {
    return { ok: false, reason: 'unknown_type', detail: `event type ${JSON.stringify(String(event.type).slice(0, 80))}` };
  }
  // Sent by Roomcast (this cluster on pub/sub, or Django code passing our event on): already stored.
  if (isMessageId(event.id) && event.room === room) return { ok: 'own' };
  const { message } = event;
  if (typeof message !== 'string' || message.trim() === '') return { ok: false, reason: 'bad_message', detail: '"message" is not a non-empty string' };
  if (message.length > MAX_MESSAGE_LENGTH) {
    return { ok: false, reason: 'too_long', detail: `${message.length} characters, at most ${MAX_MESSAGE_LENGTH}` };
  }
  return { ok: true, draft: { room, user: isUsername(event.user) ? event.user : DJANGO_USER, message } };
}

/** The event a stored Roomcast message becomes for the Django group. */
export function outboundEvent(message: ChatMessage): LayerMessage {
  const { message: text, id, room, user, ts } = message;
  return { type: 'chat.message', message: text, id, room, user, ts };
}
