import { readFileSync } from 'node:fs';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { ERRORS, ERROR_CODES } from '@roomcast/protocol';
import fp from 'fastify-plugin';
import type { OpenAPIV3_1 } from 'openapi-types';
import { SESSION_COOKIE } from './session.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Where the page and the document are served. */
export const DOCS_PREFIX = '/docs';

/**
 * The page's own Content-Security-Policy: the app's strict one, except that Swagger UI sets
 * inline styles. Scripts still come only from this origin, and no page may frame it.
 */
const DOCS_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'script-src-attr': ["'none'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
};

const DESCRIPTION = `Real-time chat rooms. Post into a room and read its history over HTTP; follow it live over
the WebSocket \`/ws/chat/{room}/\` (described here as its upgrade; its frames are in the
project's docs/protocol.md). Every error answers \`{"error": "a sentence", "code": "machine_code"}\`.`;

/** Every error body, with every code of the protocol and what it means (routes list theirs). */
const ERROR_SCHEMA: OpenAPIV3_1.SchemaObject = {
  type: 'object',
  required: ['error', 'code'],
  additionalProperties: true,
  properties: {
    error: { type: 'string', description: 'A sentence for a person.' },
    code: {
      type: 'string',
      enum: [...ERROR_CODES],
      description: ERROR_CODES.map((code) => `- \`${code}\` (${ERRORS[code].status}): ${ERRORS[code].message}`).join('\n'),
    },
  },
};

/**
 * The OpenAPI document of every route (built by @fastify/swagger from the routes' schemas, so it
 * cannot drift from them) at `/docs/json`, and Swagger UI to try them at `/docs`. Registered
 * before the routes, which it collects as they are added.
 */
export default fp(
  async (app) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: { title: 'Roomcast', version, description: DESCRIPTION },
        tags: [
          { name: 'rooms', description: 'Post into rooms, read their history, follow them live.' },
          { name: 'room admin', description: 'Claim rooms and run them: settings, members, invite links, direct conversations (docs/rooms.md).' },
          { name: 'moderation', description: 'Bans, kicks and the audit list of a claimed room (moderators and the owner).' },
          { name: 'auth', description: 'Accounts and sessions (a cookie).' },
          { name: 'operations', description: 'Health, readiness and metrics.' },
        ],
        components: {
          schemas: { Error: ERROR_SCHEMA },
          securitySchemes: {
            apiKey: { type: 'http', scheme: 'bearer', description: 'A key from the server\'s API_KEYS.' },
            session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'The session cookie of POST /auth/login.' },
          },
        },
      },
    });
    await app.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      staticCSP: DOCS_CSP,
      uiConfig: { deepLinking: true },
      // The public validator badge would load an image from another site.
      validatorUrl: false,
    });
  },
  { name: 'roomcast-openapi', fastify: '5.x', dependencies: ['roomcast-security-headers'] },
);
