import fastifyCookie from '@fastify/cookie';
import type {} from '@fastify/redis'; // app.redis, registered by the backend plugin on the Redis backend
import fastifySession, { type FastifySessionOptions } from '@fastify/session';
import { isUsername } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Accounts, type AccountStore } from '../accounts/accounts.js';
import { MemoryAccountStore, MemorySessionStore } from '../accounts/memory.js';
import { PASSWORD_GATE_LIMITS, PasswordGate } from '../limits/password-gate.js';
import { SESSION_MAX_AGE_MS, fastifySessionStore, type SessionStore } from '../accounts/sessions.js';
import { sessionTag } from '../identity/sign-outs.js';
import { bearerToken } from '../security/api-keys.js';
import type { SessionUser } from '../types.js';
import '../types.js';

/** The session cookie's name. Its value is the session ID, signed with SESSION_SECRET. */
export const SESSION_COOKIE = 'roomcast_session';

/** Routes that start a new session, replacing a dead cookie. */
const STARTS_SESSION = new Set(['/auth/login', '/auth/register']);

async function createStores(app: FastifyInstance): Promise<{ accounts: AccountStore; sessions: SessionStore }> {
  if (app.backend.kind === 'redis') {
    const { RedisAccountStore, RedisSessionStore } = await import('../accounts/redis.js');
    return { accounts: new RedisAccountStore(app.redis), sessions: new RedisSessionStore(app.redis) };
  }
  return { accounts: new MemoryAccountStore(), sessions: new MemorySessionStore() };
}

/** True when the request has nothing a session could be read from, and the route starts none. */
function noSessionNeeded(request: FastifyRequest): boolean {
  const route = request.routeOptions;
  if (STARTS_SESSION.has(route.url ?? '')) return false;
  if (route.config.bearerSkipsSession === true && bearerToken(request.headers.authorization) !== undefined) return true;
  return request.cookies[SESSION_COOKIE] === undefined;
}

type Hook = (request: FastifyRequest, reply: unknown, done: (error?: Error) => void) => void;

/**
 * Registers @fastify/session with its `onRequest` hook skipped for requests that need no session.
 * The library makes a new Session for every request without a cookie (a random ID, its HMAC
 * signature, a cookie object and a hash of the whole): 5% of the server's CPU per socket upgrade
 * in a profile of 10,000 joins, and more of an API publish. A guest's upgrade and an API key's
 * publish get `request.session = null` instead, which every reader here treats as no session.
 * The library is called with the app itself except for `addHook`, so its other hooks and
 * decorations are exactly as registered by `app.register`.
 */
function registerSession(app: FastifyInstance, options: FastifySessionOptions): Promise<void> {
  const guarded = {
    decorate: app.decorate.bind(app),
    decorateRequest: app.decorateRequest.bind(app),
    addHook: (name: string, hook: Hook) => {
      if (name !== 'onRequest') return app.addHook(name as 'onSend', hook as never);
      const handleSession: Hook = function (this: unknown, request, reply, done) {
        if (noSessionNeeded(request)) {
          (request as { session: unknown }).session = null;
          done();
          return;
        }
        hook.call(this, request, reply, done);
      };
      return app.addHook('onRequest', handleSession as never);
    },
  };
  return new Promise((resolve, reject) => {
    fastifySession.default(guarded as unknown as FastifyInstance, options, (error?: Error) => (error ? reject(error) : resolve()));
  });
}

/** The session's user, if the session holds a well-formed one. */
function sessionUser(request: FastifyRequest): SessionUser | null {
  // `session` is null after a destroy and a bare object outside the cookie's path.
  const user: unknown = (request.session as { user?: unknown } | null)?.user;
  if (typeof user !== 'object' || user === null) return null;
  const { username } = user as { username?: unknown };
  return isUsername(username) ? { username } : null;
}

/**
 * Accounts and sessions, Django's `AuthMiddlewareStack` for Roomcast: @fastify/session over the
 * backend's store (memory, or Redis shared by every node), and `request.user` resolved from it in
 * `onRequest`, so every route, every guard and every WebSocket upgrade knows its user before
 * `preValidation`.
 *
 * - Sessions are only stored once someone logs in (`saveUninitialized: false`): anonymous
 *   visitors cost no storage.
 * - Expiry is absolute (`rolling: false`), SESSION_MAX_AGE_MS after login. A rolling session is
 *   re-saved by every request, and a request in flight while its session is logged out would
 *   save it back to life.
 * - The cookie is HttpOnly, SameSite=Lax, and Secure when the request came over HTTPS
 *   (`X-Forwarded-Proto` counts only with TRUST_PROXY, which Fastify's `trustProxy` follows).
 */
export default fp(
  async (app) => {
    const stores = await createStores(app);
    app.decorate('accounts', new Accounts(stores.accounts, new PasswordGate(PASSWORD_GATE_LIMITS, (reason) => app.metrics.refusedAtEdge(reason))));

    await app.register(fastifyCookie);
    await registerSession(app, {
      secret: app.config.sessionSecret,
      cookieName: SESSION_COOKIE,
      store: fastifySessionStore(stores.sessions, app.log),
      saveUninitialized: false,
      rolling: false,
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', secure: 'auto', maxAge: SESSION_MAX_AGE_MS },
    });

    app.decorateRequest('user', null);
    app.decorateRequest('sessionExpired', false);
    app.decorateRequest('sessionTag', undefined);
    // Registered after @fastify/session's own onRequest hook, so the session is loaded by now.
    app.addHook('onRequest', async (request) => {
      request.user = sessionUser(request);
      // Only a login sets the cookie (`saveUninitialized: false`), so a cookie without a user
      // is a session that ended: logged out, expired, lost in a restart, or signed with an old
      // secret. It is said so, never taken for a guest.
      request.sessionExpired = request.user === null && Boolean(request.cookies[SESSION_COOKIE]);
      request.sessionTag = request.user === null ? undefined : sessionTag(request.session.sessionId);
      // @fastify/session would clear a dead cookie in the first answer (a history read, say), and
      // every request after it would quietly be a guest's. The dead cookie stays until the person
      // chooses: logging in or registering replaces it, logging out clears it.
      if (request.sessionExpired && !STARTS_SESSION.has(request.routeOptions.url ?? '')) (request as { session: unknown }).session = null;
    });
    app.addHook('onClose', async () => {
      await stores.sessions.close();
    });
  },
  { name: 'roomcast-session', fastify: '5.x', dependencies: ['roomcast-backend'] },
);
