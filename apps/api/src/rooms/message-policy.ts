import type { Actor, ChangeRight } from '../history/room-events.js';
import type { RoomRegistry, RoomStanding } from '../registry/room-registry.js';
import { moderates } from './access.js';

/**
 * Who may change which messages, in one place. Signed-in users and services (API keys) edit and
 * delete their own messages; a guest may not (a guest name is no proof of identity). The owner
 * and moderators of a claimed room (`standing`, from `checkRoomAccess`) delete anyone's: `any`.
 * The author check itself runs in the log's append, atomically with it, against the right this gives.
 */
export function changeRight(actor: Actor, _room: string, kind: 'edit' | 'delete', standing?: RoomStanding): ChangeRight {
  if (actor.user === null) return 'none';
  return kind === 'delete' && standing !== undefined && moderates(standing) ? 'any' : 'own';
}

/**
 * A deletion made with the right to delete anyone's message is moderation: the room's audit list
 * names who deleted which message, and when.
 */
export async function auditModeratorDelete(registry: RoomRegistry, room: string, by: string, target: string): Promise<void> {
  await registry.audit(room, { action: 'delete', by, target, ts: Date.now() });
}

/** Whether the actor may react at all: anyone with a name (user, service, named guest); not an anonymous guest. */
export const mayReact = (actor: Actor): boolean => actor.user !== null || actor.guest !== undefined;
