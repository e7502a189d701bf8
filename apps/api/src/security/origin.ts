import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * Whether a browser request's `Origin` may act here. No `Origin` header means no browser (a
 * service, the CLI, a mobile app): not refused for that reason. Otherwise the origin must be
 * listed in ALLOWED_ORIGINS, or, when that is unset, be this server's own (its host equals the
 * request's `Host`) or a development origin.
 */
export function originAllowed(request: FastifyRequest, config: Config): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (config.allowedOrigins !== undefined) return config.allowedOrigins.includes(origin);
  if (config.devOrigins.includes(origin)) return true;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}
