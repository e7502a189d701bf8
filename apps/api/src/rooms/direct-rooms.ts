import { createHash } from 'node:crypto';
import { DM_ROOM_PREFIX, foldUsername } from '@roomcast/protocol';

/**
 * The room of the direct conversation between two people: named from their folded names, sorted,
 * so it is the same room whoever asks first, on every node. A digest keeps it within the room
 * name rule whatever the names; `dm-` names cannot be claimed by hand (see `POST /rooms`).
 */
export function directRoomName(a: string, b: string): string {
  const pair = [foldUsername(a), foldUsername(b)].sort().join('\n');
  return `${DM_ROOM_PREFIX}${createHash('sha256').update(pair).digest('base64url').slice(0, 24)}`;
}
