import { isMessageId } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RoomConsumer } from '../consumers/room-consumer.js';
import { httpError } from '../errors.js';
import { requireAllowedOrigin, requireRoom } from './guards.js';

async function requireSocketUser(request: FastifyRequest): Promise<void> {
  if (request.server.config.requireLogin && !request.user) throw httpError('login_required');
}

async function requireValidSince(request: FastifyRequest): Promise<void> {
  const { since } = request.query as { since?: unknown };
  if (since !== undefined && !isMessageId(since)) {
    throw httpError('invalid_query', '"since" must be a message ID from this room.');
  }
}

/**
 * `/ws/chat/:room/`: the room's WebSocket. Every check runs before the upgrade, so a refusal is a
 * plain HTTP status with a JSON body; after the upgrade the consumer answers with error frames.
 */
export default async function chatSocketRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { room: string }; Querystring: { since?: string } }>(
    '/ws/chat/:room',
    { websocket: true, preValidation: [requireRoom, requireAllowedOrigin, requireSocketUser, requireValidSince] },
    (socket, request) => {
      const consumer = new RoomConsumer(socket, {
        room: request.params.room,
        user: request.user?.username ?? null,
        since: request.query.since,
        backend: app.backend,
        publisher: app.publisher,
        config: app.config,
        metrics: app.metrics,
        log: request.log,
      });
      app.consumers.add(consumer);
      socket.on('close', () => app.consumers.delete(consumer));
      consumer.start();
    },
  );
}
