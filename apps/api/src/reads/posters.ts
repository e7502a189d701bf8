import type { FastifyBaseLogger } from 'fastify';
import type { Publisher } from '../rooms/publisher.js';
import type { ReadStore } from './read-store.js';

/** Pairs of user and room this node already recorded; past this many it starts again (a write more, not a wrong answer). */
const REMEMBERED_MAX = 10_000;

/**
 * A signed-in user who posts in a room makes it one of their rooms (`GET /me/rooms`) and one
 * that mentions them: recorded once per user and room on this node, not once per message, so a
 * busy sender costs the store one write.
 */
export function recordPosters(publisher: Publisher, reads: ReadStore, log: FastifyBaseLogger): void {
  const recorded = new Set<string>();
  publisher.onStored((message) => {
    if (message.user === null || message.via !== undefined) return;
    const pair = `${message.user.toLowerCase()} ${message.room}`;
    if (recorded.has(pair)) return;
    if (recorded.size >= REMEMBERED_MAX) recorded.clear();
    recorded.add(pair);
    reads.notePoster(message.user, message.room).catch((error: unknown) => {
      recorded.delete(pair);
      log.warn({ err: error }, 'poster not recorded');
    });
  });
}
