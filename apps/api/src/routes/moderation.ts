import { AuditList, BanParams, GUEST_BAN_PREFIX, RoomParams, isGuestName, isUsername } from '@roomcast/protocol';
import type { FastifyInstance } from 'fastify';
import { httpError } from '../errors.js';
import { SECURITY, refusals } from '../openapi/route-docs.js';
import { memberKey } from '../registry/room-registry.js';
import { requireAllowedOrigin, requireRoom } from './guards.js';
import { claimedStanding, recordChange, signedIn } from './room-guards.js';

const tags = ['moderation'];
const REFUSALS = ['invalid_room', 'invalid_username', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'banned', 'not_found'] as const;
/** Audit entries one read answers. */
const AUDIT_PAGE = 200;

/** A ban or kick target from the path: a username, or `guest:NAME`; stored lower-cased. */
function targetOf(raw: string): string {
  const guest = raw.startsWith(GUEST_BAN_PREFIX) ? raw.slice(GUEST_BAN_PREFIX.length) : undefined;
  if (guest !== undefined ? !isGuestName(guest) : !isUsername(raw)) {
    throw httpError('invalid_username', 'Name a username, or a guest as guest:NAME (3 to 32 letters, digits, ".", "_" or "-").');
  }
  return guest !== undefined ? `${GUEST_BAN_PREFIX}${memberKey(guest)}` : memberKey(raw);
}

/**
 * Moderation by the owner and moderators: bans (refused at the upgrade, on reads and posts, on
 * every node, until lifted) and kicks (sockets closed; they may come back), each audited with
 * who and when; the owner reads the audit list.
 */
export default async function moderationRoutes(app: FastifyInstance): Promise<void> {
  const registry = app.backend.rooms;

  /** The moderator acting on `raw` in `room`: never on the owner, nor on themselves. */
  async function moderator(request: Parameters<typeof signedIn>[0], room: string, raw: string): Promise<{ by: string; target: string }> {
    const target = targetOf(raw);
    const { actor, username } = await signedIn(request, room);
    await claimedStanding(request, room, actor, ['owner', 'moderator']);
    if (target === memberKey(username)) throw httpError('forbidden', 'You cannot do that to yourself.');
    const theirs = await registry.standing(room, target);
    if (theirs.claimed && theirs.role === 'owner') throw httpError('forbidden', 'Nobody moderates the owner.');
    return { by: username, target };
  }

  const banSchema = (summary: string, description: string) => ({
    tags,
    summary,
    description,
    security: SECURITY.session,
    params: BanParams,
    response: { 204: { description: 'Done.', type: 'null' }, ...refusals(...REFUSALS) },
  });

  app.put<{ Params: BanParams }>(
    '/rooms/:room/bans/:target',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: banSchema('Ban a user, or a guest as guest:NAME', 'Their sockets in the room close with 4003 on every node; their upgrade, reads and posts are refused with 403 `banned` until unbanned.'),
    },
    async (request, reply) => {
      const { room } = request.params;
      const { by, target } = await moderator(request, room, request.params.target);
      await registry.ban(room, target);
      await recordChange(app, room, { action: 'ban', by, target }, { close: { target, reason: 'banned' } });
      return reply.status(204).send();
    },
  );

  app.delete<{ Params: BanParams }>(
    '/rooms/:room/bans/:target',
    { preValidation: [requireRoom, requireAllowedOrigin], schema: banSchema('Lift a ban', 'They may come back (a private room still needs them to be a member).') },
    async (request, reply) => {
      const { room } = request.params;
      const { by, target } = await moderator(request, room, request.params.target);
      if (!(await registry.unban(room, target))) throw httpError('not_found', `"${request.params.target}" is not banned here.`);
      await recordChange(app, room, { action: 'unban', by, target }, { refresh: false });
      return reply.status(204).send();
    },
  );

  app.post<{ Params: BanParams }>(
    '/rooms/:room/kicks/:target',
    { preValidation: [requireRoom, requireAllowedOrigin], schema: banSchema('Kick a user or guest:NAME', 'Their sockets in the room close with 4003 on every node; unlike a ban, they may reconnect.') },
    async (request, reply) => {
      const { room } = request.params;
      const { by, target } = await moderator(request, room, request.params.target);
      await recordChange(app, room, { action: 'kick', by, target }, { close: { target, reason: 'kicked' } });
      return reply.status(204).send();
    },
  );

  app.get<{ Params: RoomParams }>(
    '/rooms/:room/audit',
    {
      preValidation: [requireRoom],
      schema: {
        tags,
        summary: "The room's moderation actions, newest first (owner)",
        security: SECURITY.session,
        params: RoomParams,
        response: { 200: { description: `The newest ${AUDIT_PAGE} actions.`, ...AuditList }, ...refusals(...REFUSALS) },
      },
    },
    async (request) => {
      const { room } = request.params;
      const { actor } = await signedIn(request, room);
      await claimedStanding(request, room, actor, ['owner']);
      return { entries: await registry.auditList(room, AUDIT_PAGE) };
    },
  );
}
