import type { FastifyRequest } from 'fastify';
import type { ApiKey } from '../config.js';
import { httpError } from '../errors.js';
import { tokenUser } from '../identity/identity.js';
import { looksLikeJwt } from '../identity/tokens.js';
import { banTarget, type RoomRegistry, type RoomStanding } from '../registry/room-registry.js';
import { bearerToken } from '../security/api-keys.js';
import { presentedApiKey } from '../routes/guards.js';

/** Who is asking for a room: a named user (account, token, hook), a guest, or an API key's service. */
export interface Actor {
  user: string | null;
  guest?: string | undefined;
  /** Set for an API key: its service name and, when scoped, its rooms. */
  key?: Pick<ApiKey, 'name' | 'rooms'>;
}

/** How the actor is named in members, bans and slow mode: a username, `guest:NAME`, `key:NAME`, or undefined for an anonymous guest. */
export function actorName(actor: Actor): string | undefined {
  if (actor.key) return `key:${actor.key.name}`;
  return banTarget(actor.user, actor.guest);
}

/** Moderators and the owner: delete anyone's message, kick, ban, slow mode (and are not slowed). */
export const moderates = (standing: RoomStanding): boolean =>
  standing.claimed && (standing.role === 'owner' || standing.role === 'moderator');

/**
 * The one access check of a room, for everything: the socket upgrade, history, room info,
 * posting (sessions, tokens, API keys), the bridge. A room nobody claimed is open as before;
 * a key scoped to rooms opens only those; a banned person is refused `banned`; a private room
 * opens to its members (and keys scoped to it) only. Answers the standing, for slow mode and roles.
 */
export async function checkRoomAccess(registry: RoomRegistry, room: string, actor: Actor): Promise<RoomStanding> {
  const scope = actor.key?.rooms;
  if (scope !== undefined && !scope.includes(room)) throw httpError('forbidden', `This API key is not scoped to room "${room}".`);
  const standing = await registry.standing(room, actor.key ? undefined : banTarget(actor.user, actor.guest));
  if (!standing.claimed) return standing;
  if (standing.banned) throw httpError('banned');
  if (standing.visibility === 'private' && standing.role === undefined && scope === undefined) {
    throw httpError('forbidden', `"${room}" is a private room: only its members may open it.`);
  }
  return standing;
}

/** Whether `checkRoomAccess` lets the actor in (false for `forbidden` and `banned`; other failures throw). */
export async function mayOpen(registry: RoomRegistry, room: string, actor: Actor): Promise<boolean> {
  try {
    await checkRoomAccess(registry, room, actor);
    return true;
  } catch (error) {
    if (isRoomRefusal(error)) return false;
    throw error;
  }
}

/** The actor of an API key: its service, scoped to its rooms when it is. */
export const keyActor = (key: Pick<ApiKey, 'name' | 'rooms'>): Actor => ({ user: key.name, key: { name: key.name, ...(key.rooms ? { rooms: key.rooms } : {}) } });

/** Whether `error` is a refusal of `checkRoomAccess` (`forbidden` or `banned`). */
export const isRoomRefusal = (error: unknown): boolean => {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'forbidden' || code === 'banned';
};

/**
 * Who an HTTP request is, for access: a connection token's user (`Authorization: Bearer JWT`), an
 * API key, the session's user, or an anonymous guest. A dead session is refused, never a guest.
 */
export async function requestActor(request: FastifyRequest, room: string): Promise<Actor> {
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== undefined && looksLikeJwt(bearer)) return { user: await tokenUser(request.server, bearer, room) };
  const key = presentedApiKey(request);
  if (key) return keyActor(key);
  if (request.sessionExpired) throw httpError('session_expired');
  return { user: request.user?.username ?? null };
}

/** `preValidation` of a room's HTTP reads: refuses whoever may not read the room. */
export async function requireRoomReader(request: FastifyRequest): Promise<void> {
  const { room } = request.params as { room: string };
  await checkRoomAccess(request.server.backend.rooms, room, await requestActor(request, room));
}

/**
 * Slow mode: 0 when the actor may post now (their interval starts), else milliseconds to wait.
 * Moderators and the owner are not slowed; nor is anyone in a room without slow mode.
 */
export async function slowModeWait(registry: RoomRegistry, room: string, standing: RoomStanding, actor: Actor): Promise<number> {
  if (!standing.claimed || standing.slowModeMs <= 0 || moderates(standing)) return 0;
  const who = actorName(actor);
  // An anonymous guest has no name to keep a clock for: the socket's own rate limit holds it.
  if (who === undefined) return 0;
  return registry.takeSlowMode(room, who, standing.slowModeMs);
}

/** The refusal of a post sent within slow mode, saying when the next may go. */
export const slowModeReason = (standing: RoomStanding, waitMs: number): string =>
  `Slow mode: one message every ${Math.ceil((standing.claimed ? standing.slowModeMs : 0) / 1000)} s here; you may post again in ${Math.ceil(waitMs / 1000)} s.`;

/** `preValidation` of the socket upgrade, after `identifySocket`: a refusal is a plain 403 before the upgrade. */
export async function requireSocketAccess(request: FastifyRequest): Promise<void> {
  const { room } = request.params as { room: string };
  const actor: Actor = { user: request.identity?.user ?? null, guest: request.identity?.guest };
  request.roomStanding = await checkRoomAccess(request.server.backend.rooms, room, actor);
}
