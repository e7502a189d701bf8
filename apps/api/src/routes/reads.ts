import { ReadBody, RoomParams, SERVER_FRAME, compareMessageIds, type MyRoom, type MyRooms } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpError } from '../errors.js';
import { checkRoomAccess, mayOpen } from '../rooms/access.js';
import { tokenUser } from '../identity/identity.js';
import { looksLikeJwt } from '../identity/tokens.js';
import { MyRoomsAnswer, SECURITY, refusals } from '../openapi/route-docs.js';
import { bearerToken } from '../security/api-keys.js';
import { originAllowed } from '../security/origin.js';
import { requireRoom } from './guards.js';

/**
 * Read positions (#13): where a signed-in user has read up to in each room, stored server-side
 * so that every device and node agrees, and the rooms with their unread and mention counts.
 */

/** The signed-in user of a request: a session's (from an allowed origin when it writes) or a connection token's. */
async function readerOf(request: FastifyRequest, writes: boolean): Promise<string> {
  const bearer = bearerToken(request.headers.authorization);
  // A token that names its rooms opens only those (403 for another).
  if (bearer !== undefined && looksLikeJwt(bearer)) return tokenUser(request.server, bearer, (request.params as { room?: string }).room);
  if (request.sessionExpired) throw httpError('session_expired');
  if (!request.user) throw httpError('unauthorized', 'Sign in to keep read positions.');
  if (writes && !originAllowed(request, request.server.config)) throw httpError('forbidden_origin');
  return request.user.username;
}

/**
 * One room's counts for `user`: the kept messages after the read position that are not the
 * user's own (changes and deleted messages do not count), and those among them that mention the user.
 */
async function roomCounts(app: FastifyInstance, user: string, room: string, readId: string | undefined): Promise<MyRoom> {
  const { history } = app.backend;
  const [after, newest] = await Promise.all([
    history.readAfter(room, readId ?? '0-0', app.config.historyLimit),
    history.readBefore(room, undefined, 1),
  ]);
  const me = user.toLowerCase();
  let unread = 0;
  let mentions = 0;
  for (const entry of after.messages) {
    if (entry.type !== SERVER_FRAME.chatMessage) continue;
    if (entry.user?.toLowerCase() === me && entry.via === undefined) continue;
    unread += 1;
    if (entry.mentions?.some((name) => name.toLowerCase() === me)) mentions += 1;
  }
  return { room, unread, mentions, lastId: newest.messages.at(-1)?.id ?? null, ...(readId === undefined ? {} : { readId }) };
}

export default async function readRoutes(app: FastifyInstance): Promise<void> {
  app.put<{ Params: RoomParams; Body: ReadBody }>(
    '/rooms/:room/read',
    {
      preValidation: [requireRoom],
      schema: {
        tags: ['rooms'],
        summary: 'Say you have read a room up to a message',
        description:
          'Moves the signed-in user\'s read position in the room to `id` (a message ID). It only moves forward: a device that read less does not move it back. Every device and node of the user sees it in `GET /me/rooms`.',
        security: SECURITY.session,
        params: RoomParams,
        body: ReadBody,
        response: {
          204: { description: 'The position is now at `id` or later.', type: 'null' },
          ...refusals('invalid_room', 'invalid_body', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'banned', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const user = await readerOf(request, true);
      await checkRoomAccess(app.backend.rooms, request.params.room, { user });
      await app.backend.reads.markRead(user, request.params.room, request.body.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/me/rooms',
    {
      schema: {
        tags: ['rooms'],
        summary: 'Your rooms, with unread messages and mentions',
        description:
          'Rooms the signed-in user posted in, read, or is a member of (claimed rooms and direct conversations). `unread` counts the kept messages after the read position (not the user\'s own, not deleted ones); `mentions` those of them that mention the user; `lastId` is the room\'s newest message.',
        security: SECURITY.session,
        response: { 200: { description: 'Your rooms, the most recently active first.', ...MyRoomsAnswer }, ...refusals('unauthorized', 'session_expired', 'unavailable') },
      },
    },
    async (request): Promise<MyRooms> => {
      const user = await readerOf(request, false);
      const [read, memberOf] = await Promise.all([app.backend.reads.rooms(user), app.backend.rooms.roomsOf(user)]);
      // Rooms joined (a direct conversation, an invite) count from their start until first read.
      const known = new Set(read.map(({ room }) => room));
      const rooms: Array<{ room: string; readId?: string }> = [...read, ...memberOf.filter((room) => !known.has(room)).map((room) => ({ room }))];
      // A room that became private to them, or banned them, tells them nothing more.
      const open = await Promise.all(rooms.map(({ room }) => mayOpen(app.backend.rooms, room, { user })));
      const counted = await Promise.all(rooms.filter((_, i) => open[i]).map(({ room, readId }) => roomCounts(app, user, room, readId)));
      counted.sort((a, b) => compareMessageIds(b.lastId ?? '0-0', a.lastId ?? '0-0'));
      return { rooms: counted };
    },
  );
}

