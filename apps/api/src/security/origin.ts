import type { FastifyRequest } from 'fastify';
import type { Config } from '../config.js';

/**
 * Whether a browser request's `Origin` may act here. No `Origin` header means no browser (a
 * service, the CLI, a mobile app): not refused for that reason. Otherwise the origin must be
 * listed in ALLOWED_ORIGINS, or, when that is unset (development only: production requires it),
 * be this server's own (its scheme is the request's and its host the request's `Host`) or a
 * development origin. `Host` is whatever name the browser used, so under DNS rebinding it is the
 * attacker's: that is why production must list its origins.
 */
export function originAllowed(request: FastifyRequest, config: Config): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  if (config.allowedOrigins !== undefined) return config.allowedOrigins.includes(origin);
  if (config.devOrigins.includes(origin)) return true;
  try {
    const url = new URL(origin);
    return url.host === request.headers.host && url.protocol === `${request.protocol}:`;
  } catch {
    return false;
  }
}
