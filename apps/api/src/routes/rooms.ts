import {
  HISTORY_PAGE_DEFAULT,
  HISTORY_PAGE_MAX,
  MAX_MESSAGE_LENGTH,
  MessagesQuery,
  PostMessageBody,
  RoomParams,
  messageTextProblem,
  VIA_API,
  pageLimit,
  DirectoryQuery,
  type Directory,
  type MessagesPage,
} from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpError } from '../errors.js';
import { DirectoryAnswer, MessageAnswer, MessagesPageAnswer, SECURITY, refusals } from '../openapi/route-docs.js';
import { idempotencyKeyOf, publishRefusal, type Published } from '../rooms/publisher.js';
import type { MessageDraft } from '../history/room-history.js';
import { tokenUser } from '../identity/identity.js';
import { looksLikeJwt } from '../identity/tokens.js';
import { bearerToken } from '../security/api-keys.js';
import { originAllowed } from '../security/origin.js';
import { decodeCursor } from '../registry/room-registry.js';
import { checkRoomAccess, keyActor, requireRoomReader, slowModeReason, slowModeWait, type Actor } from '../rooms/access.js';
import { roomMentions } from '../rooms/mentions.js';
import { presentedApiKey, requireReader, requireRoom } from './guards.js';

/**
 * Who is publishing over HTTP: an API key's service (`via: "api"`), a connection token's user,
 * or a logged-in user from an allowed origin. A dead session is refused, never a guest.
 */
export async function publisherOf(request: FastifyRequest): Promise<{ draft: Pick<MessageDraft, 'user' | 'via'>; identity: string; actor: Actor }> {
  const bearer = bearerToken(request.headers.authorization);
  if (bearer !== undefined && looksLikeJwt(bearer)) {
    const user = await tokenUser(request.server, bearer, (request.params as { room?: string }).room);
    return { draft: { user }, identity: `token:${user.toLowerCase()}`, actor: { user } };
  }
  const key = presentedApiKey(request);
  if (key) {
    return { draft: { user: key.name, via: VIA_API }, identity: `key:${key.name}`, actor: keyActor(key) };
  }
  if (request.sessionExpired) throw httpError('session_expired');
  if (request.user) {
    if (!originAllowed(request, request.server.config)) throw httpError('forbidden_origin');
    const { username } = request.user;
    return { draft: { user: username }, identity: `user:${username.toLowerCase()}`, actor: { user: username } };
  }
  throw httpError('unauthorized');
}

/** An `Idempotency-Key`: 1 to 255 visible ASCII characters. */
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** For the document only: the header is checked by `idempotencyKeyHeader`, with its own message. */
export const IdempotencyHeaders = {
  type: 'object',
  properties: {
    'idempotency-key': {
      type: 'string',
      description:
        '1 to 255 visible ASCII characters. A repeat within 24 hours (same key or user) answers the first result again, with `Idempotent-Replayed: true`, and stores nothing.',
    },
  },
};

export function idempotencyKeyHeader(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !IDEMPOTENCY_KEY.test(raw)) {
    throw httpError('invalid_body', 'Idempotency-Key must be 1 to 255 visible ASCII characters.');
  }
  return raw;
}

/** HTTP publishes (messages and changes to them) spend one budget per publisher: PUBLISH_RATE a second. */
export async function spendPublishBudget(request: FastifyRequest, identity: string): Promise<void> {
  const { config, backend } = request.server;
  const rate = config.publishRate;
  if (rate <= 0) return;
  const decision = await backend.limiter.take(`publish:${identity}`, rate, rate * 2);
  if (!decision.allowed) throw httpError('rate_limited', undefined, Math.ceil(decision.retryAfterMs / 1000));
}

export default async function roomRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Params: { room: string }; Body: PostMessageBody }>(
    '/rooms/:room/messages',
    {
      // publisherOf: a Bearer decides (valid, or 401); only without one is the session asked.
      config: { bearerSkipsSession: true },
      preValidation: [requireRoom],
      schema: {
        tags: ['rooms'],
        summary: 'Post a message into a room',
        description:
          'Answers once the message is stored and fanned out to every socket of the room. With an API key the message carries the key\'s name as `user`; with a session (from an allowed origin), the user\'s. `replyTo` names the kept message it answers (`not_found` otherwise); `@name`s of people of the room come back in `mentions`.',
        security: SECURITY.apiKeyOrSession,
        params: RoomParams,
        headers: IdempotencyHeaders,
        body: PostMessageBody,
        response: {
          201: { description: 'The stored message (the same shape as the socket\'s `chat.message` frame).', ...MessageAnswer },
          ...refusals('invalid_room', 'invalid_body', 'unauthorized', 'session_expired', 'forbidden_origin', 'forbidden', 'banned', 'not_found', 'too_large', 'too_long', 'rate_limited', 'unavailable', 'unconfirmed'),
        },
      },
    },
    async (request, reply) => {
      const { draft: author, identity, actor } = await publisherOf(request);
      const { room } = request.params;
      const standing = await checkRoomAccess(app.backend.rooms, room, actor);
      const idempotencyKey = idempotencyKeyHeader(request);
      const { message } = request.body;
      if (message.length > MAX_MESSAGE_LENGTH) throw httpError('too_long', `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`);
      const problem = messageTextProblem(message);
      if (problem !== undefined) throw httpError('invalid_body', problem);
      await spendPublishBudget(request, identity);
      const wait = await slowModeWait(app.backend.rooms, room, standing, actor);
      if (wait > 0) throw Object.assign(httpError('rate_limited', slowModeReason(standing, wait), Math.ceil(wait / 1000)), { retryAfterMs: wait });
      const { replyTo } = request.body;
      const mentions = await roomMentions(app.backend, room, message);
      let published: Published;
      try {
        const draft = {
          room,
          ...author,
          message,
          ...(replyTo === undefined ? {} : { replyTo }),
          ...(mentions.length === 0 ? {} : { mentions }),
        };
        published = await app.publisher.publish(draft, {}, idempotencyKey && idempotencyKeyOf(identity, idempotencyKey));
      } catch (error) {
        // `unconfirmed` when the message may have been stored: resend with the same Idempotency-Key.
        const code = publishRefusal(error);
        request.log.warn({ err: error, code }, 'publish failed');
        throw httpError(code);
      }
      // A replay answers exactly as the first time did, and says it is one.
      if (published.duplicate) void reply.header('idempotent-replayed', 'true');
      return reply.status(201).send(published.message);
    },
  );

  app.get<{ Params: { room: string }; Querystring: MessagesQuery }>(
    '/rooms/:room/messages',
    {
      preValidation: [requireRoom, requireReader, requireRoomReader],
      schema: {
        tags: ['rooms'],
        summary: 'Read a page of a room\'s history',
        description:
          'The newest `limit` messages before `before` (or the newest of all), oldest first, each in its current state: `edited` (time) and the latest text when edited, `reactions` (emoji to who), `deleted: true` without `message` when deleted. Edits, deletions and reactions themselves are not listed. Page back with `before` set to the oldest `id` you have while `hasMore` is true.',
        security: SECURITY.anyone,
        params: RoomParams,
        querystring: MessagesQuery,
        response: {
          200: { description: 'A page of messages, oldest first.', ...MessagesPageAnswer },
          ...refusals('invalid_room', 'invalid_query', 'login_required', 'unauthorized', 'session_expired', 'forbidden', 'banned'),
        },
      },
    },
    async (request): Promise<MessagesPage> => {
      const { before } = request.query;
      const limit = pageLimit(request.query.limit, HISTORY_PAGE_DEFAULT);
      if (limit === undefined) throw httpError('invalid_query', `"limit" must be a whole number from 1 to ${HISTORY_PAGE_MAX}.`);
      return app.backend.history.readBefore(request.params.room, before, limit);
    },
  );

  const roomsSchema = {
    tags: ['rooms'],
    summary: 'The directory: public rooms, and rooms with someone online',
    description:
      'Public rooms whose name contains `q` (any case), by name, then rooms nobody claimed with someone online. Private and unlisted rooms are never listed. Pass the answer\'s `cursor` back for the next page; `null` means the last page.',
    security: SECURITY.anyone,
    querystring: DirectoryQuery,
    response: {
      200: { description: 'One page of the directory.', ...DirectoryAnswer },
      ...refusals('invalid_query', 'login_required', 'unauthorized'),
    },
  };
  app.get<{ Querystring: DirectoryQuery }>('/rooms', { preValidation: [requireReader], schema: roomsSchema }, async (request): Promise<Directory> => {
    const { q = '', cursor } = request.query;
    if (!decodeCursor(cursor)) throw httpError('invalid_query', '"cursor" must be a cursor from a previous page.');
    return app.backend.rooms.directory(q, cursor);
  });
}
