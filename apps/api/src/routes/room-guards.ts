import type { AuditAction, Role } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpError } from '../errors.js';
import type { RoomStanding } from '../registry/room-registry.js';
import { checkRoomAccess, requestActor, type Actor } from '../rooms/access.js';
import type { RoomControlEvent } from '../rooms/room-control.js';

/** A claimed room's standing: what routes that manage a room work with. */
export type ClaimedStanding = Extract<RoomStanding, { claimed: true }>;

/** The signed-in person of a request (a session or a connection token): 401 for anyone else. */
export async function signedIn(request: FastifyRequest, room?: string): Promise<{ actor: Actor; username: string }> {
  const actor = await requestActor(request, room ?? '');
  if (actor.key || actor.user === null) throw httpError('unauthorized', 'Sign in first: this needs an account.');
  return { actor, username: actor.user };
}

/**
 * The caller's standing in a claimed room they may see: 404 `not_found` for a room nobody claimed,
 * 403 `forbidden` / `banned` as `checkRoomAccess` decides, and 403 `forbidden` without one of `roles`.
 */
export async function claimedStanding(request: FastifyRequest, room: string, actor: Actor, roles?: readonly Role[]): Promise<ClaimedStanding> {
  const standing = await checkRoomAccess(request.server.backend.rooms, room, actor);
  if (!standing.claimed) throw httpError('not_found', `Nobody has claimed "${room}"; it is open to everyone.`);
  if (roles && (standing.role === undefined || !roles.includes(standing.role))) {
    throw httpError('forbidden', `Only the room's ${roles.join(' or ')} may do that.`);
  }
  return standing;
}

/**
 * A change made to a room by someone: recorded in the room's audit list with who and when, then
 * carried to every node's sockets of the room (closing someone's, or refreshing everyone's).
 */
export async function recordChange(
  app: FastifyInstance,
  room: string,
  change: { action: AuditAction; by: string; target?: string; detail?: string },
  control: Omit<RoomControlEvent, 'room'>,
): Promise<void> {
  await app.backend.rooms.audit(room, { ...change, ts: Date.now() });
  await app.roomControl.publish({ room, ...control });
}
