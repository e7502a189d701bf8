import { randomBytes } from 'node:crypto';
import {
  ClaimRoomBody,
  DM_ROOM_PREFIX,
  DmAnswer,
  DmParams,
  Invite,
  InviteBody,
  JoinBody,
  MemberBody,
  MemberParams,
  PatchRoomBody,
  RoomInfo,
  RoomParams,
  isUsername,
  type RoomInfo as RoomInfoType,
} from '@roomcast/protocol';
import type { FastifyInstance } from 'fastify';
import { httpError } from '../errors.js';
import { SECURITY, refusals } from '../openapi/route-docs.js';
import { memberKey, type RoomRecord } from '../registry/room-registry.js';
import { requestActor } from '../rooms/access.js';
import { directRoomName } from '../rooms/direct-rooms.js';
import { requireAllowedOrigin, requireRoom } from './guards.js';
import { claimedStanding, recordChange, signedIn } from './room-guards.js';

const tags = ['room admin'];
/** Refusals every route about one claimed room may give. */
const ROOM_REFUSALS = ['invalid_room', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'banned', 'not_found'] as const;

/**
 * Claiming rooms and running them: settings, members, invite links, direct conversations. Who may
 * do what is decided by `claimedStanding` from the room registry; every change is audited and
 * carried to every node's sockets (`recordChange`).
 */
export default async function roomAdminRoutes(app: FastifyInstance): Promise<void> {
  const registry = app.backend.rooms;

  async function info(record: RoomRecord): Promise<RoomInfoType> {
    const { room, owner, visibility, topic, slowModeMs, direct } = record;
    const members = (await registry.members(room)).sort((a, b) => a.username.localeCompare(b.username));
    return { room, owner, visibility, topic, members, slowModeMs, ...(direct ? { direct } : {}) };
  }
  async function recordOf(room: string): Promise<RoomRecord> {
    const record = await registry.get(room);
    if (!record) throw httpError('not_found', `Nobody has claimed "${room}".`);
    return record;
  }

  app.post<{ Body: ClaimRoomBody }>(
    '/rooms',
    {
      preValidation: [requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Claim a room nobody owns',
        description: 'The caller (signed in) becomes its owner. Names starting with `dm-` are for direct conversations.',
        security: SECURITY.session,
        body: ClaimRoomBody,
        response: { 201: { description: 'The room, claimed.', ...RoomInfo }, ...refusals('invalid_body', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'room_taken') },
      },
    },
    async (request, reply) => {
      const { room, visibility, topic = '' } = request.body;
      const { username } = await signedIn(request, room);
      if (room.startsWith(DM_ROOM_PREFIX)) throw httpError('forbidden', `Names starting with "${DM_ROOM_PREFIX}" are for direct conversations.`);
      const record: RoomRecord = { room, owner: username, visibility, topic, slowModeMs: 0, direct: false, createdAt: Date.now() };
      if (!(await registry.claim(record))) throw httpError('room_taken');
      // Sockets already in the room look it up again: a private claim closes the non-members'.
      await recordChange(app, room, { action: 'claim', by: username, detail: visibility }, { refresh: true });
      return reply.status(201).send(await info(record));
    },
  );

  app.get<{ Params: RoomParams }>(
    '/rooms/:room',
    {
      preValidation: [requireRoom],
      schema: {
        tags,
        summary: "A claimed room's owner, settings and members",
        security: SECURITY.anyone,
        params: RoomParams,
        response: { 200: { description: 'The room.', ...RoomInfo }, ...refusals(...ROOM_REFUSALS) },
      },
    },
    async (request) => {
      const { room } = request.params;
      await claimedStanding(request, room, await requestActor(request, room));
      return info(await recordOf(room));
    },
  );

  app.patch<{ Params: RoomParams; Body: PatchRoomBody }>(
    '/rooms/:room',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: {
        tags,
        summary: "Change a room's visibility, topic or slow mode",
        description: 'The owner changes anything; a moderator only `slowModeMs`. Open sockets follow at once on every node.',
        security: SECURITY.session,
        params: RoomParams,
        body: PatchRoomBody,
        response: { 200: { description: 'The room as it now is.', ...RoomInfo }, ...refusals('invalid_body', ...ROOM_REFUSALS) },
      },
    },
    async (request) => {
      const { room } = request.params;
      const { actor, username } = await signedIn(request, room);
      const onlySlowMode = Object.keys(request.body).every((key) => key === 'slowModeMs');
      await claimedStanding(request, room, actor, onlySlowMode ? ['owner', 'moderator'] : ['owner']);
      const record = await registry.update(room, request.body);
      if (!record) throw httpError('not_found');
      await recordChange(app, room, { action: 'settings', by: username, detail: JSON.stringify(request.body) }, { refresh: true });
      return info(record);
    },
  );

  app.put<{ Params: MemberParams; Body: MemberBody }>(
    '/rooms/:room/members/:username',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Add a member, or change a member\'s role (owner)',
        security: SECURITY.session,
        params: MemberParams,
        body: MemberBody,
        response: { 200: { description: 'The room as it now is.', ...RoomInfo }, ...refusals('invalid_body', 'invalid_username', ...ROOM_REFUSALS) },
      },
    },
    async (request) => {
      const { room, username: target } = request.params;
      if (!isUsername(target)) throw httpError('invalid_username');
      const { actor, username } = await signedIn(request, room);
      await claimedStanding(request, room, actor, ['owner']);
      const record = await recordOf(room);
      if (record.direct) throw httpError('forbidden', 'A direct conversation is between its two people only.');
      if (memberKey(target) === memberKey(record.owner)) throw httpError('forbidden', 'The owner stays the owner.');
      if (!(await app.accounts.isRegistered(target))) throw httpError('not_found', `There is no user "${target}".`);
      await registry.setMember(room, target, request.body.role);
      await recordChange(app, room, { action: 'member', by: username, target, detail: request.body.role }, { refresh: true });
      return info(record);
    },
  );

  app.delete<{ Params: MemberParams }>(
    '/rooms/:room/members/:username',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Remove a member (owner), or leave (the member itself)',
        description: "The removed member's open sockets in the room close with 4003 on every node.",
        security: SECURITY.session,
        params: MemberParams,
        response: { 204: { description: 'Removed.', type: 'null' }, ...refusals('invalid_username', ...ROOM_REFUSALS) },
      },
    },
    async (request, reply) => {
      const { room, username: target } = request.params;
      if (!isUsername(target)) throw httpError('invalid_username');
      const { actor, username } = await signedIn(request, room);
      const leaving = memberKey(target) === memberKey(username);
      const standing = await claimedStanding(request, room, actor, leaving ? undefined : ['owner']);
      if (leaving && standing.role === 'owner') throw httpError('forbidden', 'The owner cannot leave the room they own.');
      if (!leaving && memberKey(target) === memberKey((await recordOf(room)).owner)) throw httpError('forbidden', 'The owner stays the owner.');
      if (!(await registry.removeMember(room, target))) throw httpError('not_found', `"${target}" is not a member of "${room}".`);
      await recordChange(app, room, { action: 'remove', by: username, target }, { close: { target: memberKey(target), reason: 'removed' } });
      return reply.status(204).send();
    },
  );

  app.post<{ Params: RoomParams; Body: InviteBody }>(
    '/rooms/:room/invites',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Make an invite link (owner)',
        description: 'Anyone signed in who brings the token to `POST /rooms/:room/join` before it expires becomes a member.',
        security: SECURITY.session,
        params: RoomParams,
        body: InviteBody,
        response: { 201: { description: 'The invite.', ...Invite }, ...refusals('invalid_body', ...ROOM_REFUSALS) },
      },
    },
    async (request, reply) => {
      const { room } = request.params;
      const { actor } = await signedIn(request, room);
      await claimedStanding(request, room, actor, ['owner']);
      if ((await recordOf(room)).direct) throw httpError('forbidden', 'A direct conversation is between its two people only.');
      const token = randomBytes(18).toString('base64url');
      const ttlMs = request.body.ttlSeconds * 1000;
      await registry.addInvite(room, token, ttlMs);
      return reply.status(201).send({ token, expires: Date.now() + ttlMs });
    },
  );

  app.post<{ Params: RoomParams; Body: JoinBody }>(
    '/rooms/:room/join',
    {
      preValidation: [requireRoom, requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Join a room with an invite link\'s token',
        security: SECURITY.session,
        params: RoomParams,
        body: JoinBody,
        response: { 200: { description: 'The room, with the caller a member.', ...RoomInfo }, ...refusals('invalid_body', ...ROOM_REFUSALS) },
      },
    },
    async (request) => {
      const { room } = request.params;
      const { username } = await signedIn(request, room);
      if (!(await registry.inviteValid(room, request.body.token))) throw httpError('forbidden', 'That invite is unknown or has expired; ask for a new one.');
      const standing = await registry.standing(room, memberKey(username));
      if (!standing.claimed) throw httpError('not_found');
      if (standing.banned) throw httpError('banned');
      if (standing.role === undefined) {
        await registry.setMember(room, username, 'member');
        await recordChange(app, room, { action: 'join', by: username, detail: 'invite link' }, { refresh: false });
      }
      return info(await recordOf(room));
    },
  );

  app.post<{ Params: DmParams }>(
    '/dm/:username',
    {
      preValidation: [requireAllowedOrigin],
      schema: {
        tags,
        summary: 'Open the direct conversation with a user',
        description: 'The private room of exactly the caller and that user: the same room whoever asks first.',
        security: SECURITY.session,
        params: DmParams,
        response: { 200: { description: 'The conversation\'s room.', ...DmAnswer }, ...refusals('invalid_username', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'not_found') },
      },
    },
    async (request) => {
      const { username: other } = request.params;
      if (!isUsername(other)) throw httpError('invalid_username');
      const { username } = await signedIn(request);
      if (memberKey(other) === memberKey(username)) throw httpError('forbidden', 'A direct conversation needs someone else.');
      if (!(await app.accounts.isRegistered(other))) throw httpError('not_found', `There is no user "${other}".`);
      const room = directRoomName(username, other);
      const record: RoomRecord = { room, owner: username, visibility: 'private', topic: '', slowModeMs: 0, direct: true, createdAt: Date.now() };
      if (!(await registry.claim(record, [other]))) {
        // One of the two left it before: asking again brings the caller back, and nobody else.
        const standing = await registry.standing(room, memberKey(username));
        if (standing.claimed && standing.role === undefined) await registry.setMember(room, username, 'member');
      }
      return { room };
    },
  );
}
