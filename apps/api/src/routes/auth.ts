import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, UserBody, foldUsername, isUsername } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { httpError } from '../errors.js';
import { SECURITY, refusals } from '../openapi/route-docs.js';
import { clientKey } from '../limits/client-key.js';
import { SESSION_COOKIE } from '../plugins/session.js';
import type { SessionUser } from '../types.js';
import { requireAllowedOrigin } from './guards.js';

interface CredentialsBody {
  username: string;
  password: string;
}

/** Only the shape: the username and password rules answer with their own codes, below. */
const credentialsSchema = {
  type: 'object',
  required: ['username', 'password'],
  properties: {
    username: { type: 'string', description: '3 to 32 letters, digits, ".", "_" or "-"; unique case-insensitively.' },
    password: { type: 'string', description: '8 to 200 characters.' },
  },
} as const;

const SESSION_COOKIE_SET = `Sets the \`${SESSION_COOKIE}\` session cookie (HttpOnly, SameSite=Lax, 7 days).`;

interface Limit {
  /** Attempts regained per second. */
  rate: number;
  /** Attempts allowed at once. */
  burst: number;
}

/**
 * Brute-force limits, shared by every node on the Redis backend. Per username, so that many IPs
 * cannot guess one user's password fast; per client address (an IPv6 /64, see `clientKey`), so
 * that one address cannot sweep many usernames. Every attempt counts, a successful one too.
 */
export const AUTH_LIMITS = {
  loginPerIp: { rate: 1 / 5, burst: 30 },
  loginPerUsername: { rate: 1 / 30, burst: 10 },
  registerPerIp: { rate: 1 / 30, burst: 20 },
  registerPerUsername: { rate: 1 / 60, burst: 5 },
} as const satisfies Record<string, Limit>;

async function limit(request: FastifyRequest, key: string, { rate, burst }: Limit): Promise<void> {
  let decision;
  try {
    decision = await request.server.backend.limiter.take(key, rate, burst);
  } catch (error) {
    request.log.warn({ err: error }, 'rate limiter failed');
    throw httpError('unavailable');
  }
  if (!decision.allowed) {
    throw httpError('rate_limited', 'Too many attempts; wait a little before trying again.', Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  }
}

const isPasswordLength = (password: string): boolean =>
  password.length >= PASSWORD_MIN_LENGTH && password.length <= PASSWORD_MAX_LENGTH;

/**
 * A new session ID for the new login (no fixation), holding the user. The session it replaces is
 * destroyed, so its sockets (other tabs, still the previous user) close with 4001 like a logout's:
 * a tab must not go on posting as one user under a page that now says another.
 */
async function startSession(request: FastifyRequest, user: SessionUser): Promise<void> {
  const previous = request.sessionTag;
  await request.session.regenerate();
  request.session.set('user', user);
  request.user = user;
  if (previous !== undefined) await signOut(request, previous);
}

async function signOut(request: FastifyRequest, tag: string): Promise<void> {
  // The session is gone either way; other nodes' sockets of it can no longer reconnect as it.
  await request.server.identity.signOuts.signOut(tag).catch((error: unknown) => request.log.warn({ err: error }, 'sign-out not sent to other nodes'));
}

/**
 * `/auth/*`: register, log in, log out, who am I. Every POST checks its `Origin` first (a
 * cross-site login or logout is CSRF too), in `onRequest`, before the body is even read.
 */
export default async function authRoutes(app: FastifyInstance): Promise<void> {
  // Who is logged in is nobody else's business: no shared cache may keep these answers.
  app.addHook('onSend', async (_request, reply) => {
    void reply.header('cache-control', 'no-store');
  });

  app.post<{ Body: CredentialsBody }>(
    '/auth/register',
    {
      onRequest: [requireAllowedOrigin],
      schema: {
        tags: ['auth'],
        summary: 'Register an account and log in',
        description: SESSION_COOKIE_SET,
        body: credentialsSchema,
        response: {
          201: { description: 'Registered and logged in.', ...UserBody },
          ...refusals('invalid_body', 'invalid_username', 'invalid_password', 'forbidden_origin', 'username_taken', 'rate_limited', 'unavailable'),
        },
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const client = clientKey(request.ip);
      await limit(request, `register:ip:${client}`, AUTH_LIMITS.registerPerIp);
      if (!isUsername(username)) throw httpError('invalid_username');
      if (!isPasswordLength(password)) throw httpError('invalid_password');
      await limit(request, `register:user:${username.toLowerCase()}`, AUTH_LIMITS.registerPerUsername);
      if (app.identity.reserved.has(foldUsername(username))) {
        throw httpError('username_taken', `"${username}" is reserved: it would pass for the system, a service or guests. Pick another name.`);
      }
      const user = await app.accounts.register(username, password, client);
      if (!user) throw httpError('username_taken', `"${username}" is taken, or reads the same as a name that is (case, I/l/1 and O/0 count as one).`);
      await startSession(request, user);
      request.log.info({ username }, 'registered');
      return reply.status(201).send({ user });
    },
  );

  app.post<{ Body: CredentialsBody }>(
    '/auth/login',
    {
      onRequest: [requireAllowedOrigin],
      schema: {
        tags: ['auth'],
        summary: 'Log in',
        description: `${SESSION_COOKIE_SET} A fresh session ID at every login.`,
        body: credentialsSchema,
        response: {
          200: { description: 'Logged in.', ...UserBody },
          ...refusals('invalid_body', 'invalid_credentials', 'forbidden_origin', 'rate_limited', 'unavailable'),
        },
      },
    },
    async (request) => {
      const { username, password } = request.body;
      const client = clientKey(request.ip);
      await limit(request, `login:ip:${client}`, AUTH_LIMITS.loginPerIp);
      // No account has such a name or password: refuse without spending a hash on it.
      if (!isUsername(username) || !isPasswordLength(password)) throw httpError('invalid_credentials');
      await limit(request, `login:user:${username.toLowerCase()}`, AUTH_LIMITS.loginPerUsername);
      const user = await app.accounts.authenticate(username, password, client);
      if (!user) {
        request.log.info({ username }, 'login refused: wrong username or password');
        throw httpError('invalid_credentials');
      }
      await startSession(request, user);
      request.log.info({ username: user.username }, 'logged in');
      return { user };
    },
  );

  const logoutSchema = {
    tags: ['auth'],
    summary: 'Log out',
    description: 'Ends the session in the store, so its cookie stops working on every node.',
    security: SECURITY.session,
    response: { 204: { description: 'Logged out (also when there was no session).', type: 'null' }, ...refusals('forbidden_origin') },
  };
  app.post('/auth/logout', { onRequest: [requireAllowedOrigin], schema: logoutSchema }, async (request, reply) => {
    // Destroyed in the store, so the cookie stops working on every node, not only in this browser.
    if (request.user) request.log.info({ username: request.user.username }, 'logged out');
    const tag = request.sessionTag;
    await request.session?.destroy();
    // Its sockets close with 4001 on every node.
    if (tag !== undefined) await signOut(request, tag);
    request.user = null;
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    return reply.status(204).send();
  });

  const meSchema = {
    tags: ['auth'],
    summary: 'Who is logged in',
    security: SECURITY.session,
    response: { 200: { description: 'The logged-in user.', ...UserBody }, ...refusals('unauthorized', 'session_expired') },
  };
  app.get('/auth/me', { schema: meSchema }, async (request) => {
    if (request.sessionExpired) throw httpError('session_expired');
    if (!request.user) throw httpError('unauthorized', 'You are not logged in.');
    return { user: request.user };
  });
}
