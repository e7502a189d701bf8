import {
  EditMessageBody,
  MAX_MESSAGE_LENGTH,
  MessageParams,
  ReactionParams,
  isMessageId,
  isReactionEmoji,
  messageTextProblem,
  type MessageState,
} from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpError } from '../errors.js';
import { CHANGE_REFUSAL_REASONS, type ChangeDraft } from '../history/room-events.js';
import { MessageStateAnswer, SECURITY, refusals } from '../openapi/route-docs.js';
import type { RoomStanding } from '../registry/room-registry.js';
import { checkRoomAccess } from '../rooms/access.js';
import { auditModeratorDelete, changeRight } from '../rooms/message-policy.js';
import { roomMentions } from '../rooms/mentions.js';
import { idempotencyKeyOf, publishRefusal } from '../rooms/publisher.js';
import { requireRoom } from './guards.js';
import { IdempotencyHeaders, idempotencyKeyHeader, publisherOf, spendPublishBudget } from './rooms.js';

/**
 * Changes to messages over HTTP, for sessions (from an allowed origin), connection tokens and
 * API keys alike: the author edits or deletes their own message (a service its own posts, by its
 * key), anyone who may post reacts. Each change goes through the one publish path into the
 * room's log, which checks the target and the author atomically with the append.
 */

/** Both refusals a change may get from the log, and the ones every HTTP publish may get. */
const CHANGE_REFUSALS = [
  'invalid_room',
  'unauthorized',
  'session_expired',
  'forbidden_origin',
  'forbidden',
  'banned',
  'not_found',
  'invalid_body',
  'rate_limited',
  'unavailable',
  'unconfirmed',
] as const;

/** The ID after `id` in the log's order: reading the one message before it answers `id` itself. */
const justAfter = (id: string): string => {
  const [ms, seq] = id.split('-') as [string, string];
  return `${ms}-${(BigInt(seq) + 1n).toString()}`;
};

/** Stores a change through the publisher; the log's refusals and the backend's become HTTP errors. */
async function applyChange(
  request: FastifyRequest,
  build: (actor: Awaited<ReturnType<typeof publisherOf>>['draft'], standing: RoomStanding) => ChangeDraft | Promise<ChangeDraft>,
): Promise<void> {
  const { room, id } = request.params as { room: string; id: string };
  if (!isMessageId(id)) throw httpError('not_found', CHANGE_REFUSAL_REASONS.not_found);
  const { draft: actor, identity, actor: who } = await publisherOf(request);
  // The room's rules first: a private room's outsiders and banned people change nothing.
  const standing = await checkRoomAccess(request.server.backend.rooms, room, who);
  const key = idempotencyKeyHeader(request);
  await spendPublishBudget(request, identity);
  const draft = await build(actor, standing);
  try {
    const { state } = await request.server.publisher.change(draft, {}, key && idempotencyKeyOf(identity, `${room}:${key}`));
    if (state === 'stored' && draft.kind === 'delete' && draft.right === 'any' && actor.user !== null) {
      await auditModeratorDelete(request.server.backend.rooms, room, actor.user, draft.target);
    }
  } catch (error) {
    const code = publishRefusal(error);
    if (code !== 'not_found' && code !== 'forbidden') request.log.warn({ err: error, code }, 'change failed');
    throw httpError(code, code === 'not_found' || code === 'forbidden' ? CHANGE_REFUSAL_REASONS[code] : undefined);
  }
}

export default async function messageRoutes(app: FastifyInstance): Promise<void> {
  app.patch<{ Params: MessageParams; Body: EditMessageBody }>(
    '/rooms/:room/messages/:id',
    {
      preValidation: [requireRoom],
      schema: {
        tags: ['rooms'],
        summary: 'Edit one of your messages',
        description:
          'Replaces the text of a message you wrote (a service: one it posted with its key). Every socket of the room gets a `chat.edit` frame. Answers the message as it now is.',
        security: SECURITY.apiKeyOrSession,
        params: MessageParams,
        headers: IdempotencyHeaders,
        body: EditMessageBody,
        response: {
          200: { description: 'The message in its current state.', ...MessageStateAnswer },
          ...refusals(...CHANGE_REFUSALS, 'too_large', 'too_long'),
        },
      },
    },
    async (request): Promise<MessageState> => {
      const { room, id } = request.params;
      const { message } = request.body;
      if (message.length > MAX_MESSAGE_LENGTH) throw httpError('too_long', `Messages are at most ${MAX_MESSAGE_LENGTH} characters.`);
      const problem = messageTextProblem(message);
      if (problem !== undefined) throw httpError('invalid_body', problem);
      await applyChange(request, async (actor) => ({
        kind: 'edit',
        room,
        target: id,
        ...actor,
        message,
        mentions: await roomMentions(app.backend, room, message),
        right: changeRight(actor, room, 'edit'),
      }));
      const [state] = (await app.backend.history.readBefore(room, justAfter(id), 1)).messages;
      if (state?.id !== id) throw httpError('not_found', 'The message was deleted meanwhile.');
      return state;
    },
  );

  app.delete<{ Params: MessageParams }>(
    '/rooms/:room/messages/:id',
    {
      preValidation: [requireRoom],
      schema: {
        tags: ['rooms'],
        summary: 'Delete one of your messages (moderators: anyone\'s)',
        description:
          'Removes a message you wrote (a service: one it posted with its key; the owner and moderators of a claimed room: anyone\'s, and the room\'s audit list names them): its text is removed from storage, history lists it as `deleted: true` without text, and every socket of the room gets a `chat.delete` frame.',
        security: SECURITY.apiKeyOrSession,
        params: MessageParams,
        headers: IdempotencyHeaders,
        response: { 204: { description: 'Deleted.', type: 'null' }, ...refusals(...CHANGE_REFUSALS) },
      },
    },
    async (request, reply) => {
      const { room, id } = request.params;
      await applyChange(request, (actor, standing) => ({ kind: 'delete', room, target: id, ...actor, right: changeRight(actor, room, 'delete', standing) }));
      return reply.status(204).send();
    },
  );

  for (const method of ['PUT', 'DELETE'] as const) {
    app.route<{ Params: ReactionParams }>({
      method,
      url: '/rooms/:room/messages/:id/reactions/:emoji',
      preValidation: [requireRoom],
      schema: {
        tags: ['rooms'],
        summary: method === 'PUT' ? 'React to a message' : 'Take your reaction back',
        description:
          'The emoji (percent-encoded in the path) is one of the protocol\'s `REACTION_EMOJI`. Setting a reaction you have, or taking back one you do not, changes nothing but is answered the same. Every socket of the room gets a `reaction` frame with `on`.',
        security: SECURITY.apiKeyOrSession,
        params: ReactionParams,
        headers: IdempotencyHeaders,
        response: { 204: { description: 'Done.', type: 'null' }, ...refusals(...CHANGE_REFUSALS) },
      },
      handler: async (request, reply) => {
        const { room, id, emoji } = request.params;
        if (!isReactionEmoji(emoji)) throw httpError('invalid_body', 'That emoji is not one of the reactions.');
        await applyChange(request, (actor) => ({ kind: 'reaction', room, target: id, ...actor, emoji, on: method === 'PUT' }));
        return reply.status(204).send();
      },
    });
  }
}
