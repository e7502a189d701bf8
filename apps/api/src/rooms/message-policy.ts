import type { Actor, ChangeRight } from '../history/room-events.js';

/**
 * Who may change which messages, in one place (#14 adds moderators, who may delete anyone's:
 * they get `any` here). Signed-in users and services (API keys) edit and delete their own
 * messages; a guest may not (a guest name is no proof of identity). The author check itself
 * runs in the log's append, atomically with it, against the right this gives.
 */
export function changeRight(actor: Actor, _room: string, _kind: 'edit' | 'delete'): ChangeRight {
  return actor.user !== null ? 'own' : 'none';
}

/** Whether the actor may react at all: anyone with a name (user, service, named guest); not an anonymous guest. */
export const mayReact = (actor: Actor): boolean => actor.user !== null || actor.guest !== undefined;
