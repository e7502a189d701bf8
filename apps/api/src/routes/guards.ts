import { isRoomName } from '@roomcast/protocol';
import type { FastifyRequest } from 'fastify';
import type { ApiKey } from '../config.js';
import { httpError } from '../errors.js';
import { bearerToken, findApiKey } from '../security/api-keys.js';
import { originAllowed } from '../security/origin.js';

/**
 * Checks shared by routes, run in `preValidation` so that a refusal is a plain HTTP answer, also
 * before a WebSocket upgrade.
 */

export async function requireRoom(request: FastifyRequest): Promise<void> {
  const { room } = request.params as { room?: unknown };
  if (!isRoomName(room)) throw httpError('invalid_room');
}

export async function requireAllowedOrigin(request: FastifyRequest): Promise<void> {
  if (!originAllowed(request, request.server.config)) throw httpError('forbidden_origin');
}

/** The API key a request presents, if it presents a valid one; 401 for an invalid one. */
export function presentedApiKey(request: FastifyRequest): Pick<ApiKey, 'name' | 'rooms'> | undefined {
  const token = bearerToken(request.headers.authorization);
  if (token === undefined) return undefined;
  const key = findApiKey(request.server.config.apiKeys, token);
  if (!key) throw httpError('unauthorized', 'That API key is not valid.');
  return key;
}

/** With REQUIRE_LOGIN, reads need a session or an API key; a dead session is told so. */
export async function requireReader(request: FastifyRequest): Promise<void> {
  if (!request.server.config.requireLogin || request.user) return;
  if (presentedApiKey(request) !== undefined) return;
  throw httpError(request.sessionExpired ? 'session_expired' : 'login_required');
}
