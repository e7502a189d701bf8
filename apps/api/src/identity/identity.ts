import { RESERVED_USERNAMES, foldUsername, isGuestName } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { httpError } from '../errors.js';
import { AuthHook, HookUnavailable } from './auth-hook.js';
import type { SignOuts } from './sign-outs.js';
import { TokenRefused, TokenVerifier } from './tokens.js';

/**
 * Who a socket or a request is. One of: a Roomcast account (session cookie), a token user, a
 * hook user, a service (API key), or a guest (`user` null, maybe with a chosen `guest` name).
 */
export interface Identity {
  kind: 'account' | 'token' | 'hook' | 'service' | 'guest';
  user: string | null;
  /** A guest's chosen name. */
  guest?: string;
  /** The session's tag (`sessionTag`), for an account: logout closes its sockets. */
  session?: string;
  /** When the account's session expires (ms since the epoch): its sockets close then too. */
  expiresAt?: number;
}

/** What the app knows to tell who someone is, built once from the config. */
export interface IdentityServices {
  tokens: TokenVerifier | undefined;
  hook: AuthHook | undefined;
  signOuts: SignOuts;
  /** Folded names no account or guest may take: the fixed list and every API key's name. */
  reserved: ReadonlySet<string>;
}

export function reservedNames(config: Pick<Config, 'apiKeys'>): Set<string> {
  return new Set([...RESERVED_USERNAMES, ...config.apiKeys.map((key) => key.name)].map(foldUsername));
}

/** Verifies a connection token, answering 401 `unauthorized` (or 403 for a room it does not name). */
export async function tokenUser(app: FastifyInstance, token: string, room: string | undefined): Promise<string> {
  const { tokens, reserved } = app.identity;
  if (!tokens) throw httpError('unauthorized', 'This server accepts no connection tokens (TOKEN_SECRET or TOKEN_PUBLIC_KEY is not set).');
  let claims;
  try {
    claims = await tokens.verify(token);
  } catch (error) {
    if (error instanceof TokenRefused) throw httpError('unauthorized', error.message);
    throw error;
  }
  if (reserved.has(foldUsername(claims.username))) throw httpError('unauthorized', `The token names a reserved user, "${claims.username}".`);
  if (room !== undefined && claims.rooms !== undefined && !claims.rooms.includes(room)) {
    throw httpError('forbidden', `This token does not open room "${room}".`);
  }
  return claims.username;
}

/** Why `name` may not be a guest's name, or undefined when it may. */
async function guestNameRefusal(app: FastifyInstance, room: string, name: string): Promise<string | undefined> {
  const folded = foldUsername(name);
  if (app.identity.reserved.has(folded)) return `"${name}" is reserved; pick another name.`;
  if (await app.accounts.isRegistered(name)) return `"${name}" belongs to a registered user; pick another name, or log in.`;
  const { guests } = await app.backend.presence.get(room);
  if (guests.some((guest) => foldUsername(guest) === folded)) return `A guest in this room is already called "${name}"; pick another name.`;
  return undefined;
}

/** A guest, named by `?name=` when it is a free name; naming costs a token of the socket rate. */
async function guestIdentity(request: FastifyRequest, room: string, name: unknown): Promise<Identity> {
  const app = request.server;
  if (app.config.requireLogin) throw httpError('login_required');
  if (name === undefined || name === '') return { kind: 'guest', user: null };
  if (!isGuestName(name)) throw httpError('invalid_username', 'Guest names are 3 to 32 letters, digits, ".", "_" or "-".');
  const rate = app.config.socketRate;
  if (rate > 0) {
    const decision = await app.backend.limiter.take(`guest-name:${request.ip}`, rate, rate * 2);
    if (!decision.allowed) throw httpError('rate_limited', 'Too many names picked; wait a moment.', Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
  }
  const refusal = await guestNameRefusal(app, room, name);
  if (refusal !== undefined) throw httpError('username_taken', refusal);
  return { kind: 'guest', user: null, guest: name };
}

/**
 * The upgrade's identity, in order: a dead session cookie is refused (401 `session_expired`,
 * never a silent guest); a live session is its account; `?token=` is the token's user; with
 * AUTH_HOOK_URL, the site's hook says who the cookies belong to (503 if it cannot say); else a
 * guest. Runs in `preValidation`, so every refusal is a plain HTTP answer before the upgrade.
 */
export async function identifySocket(request: FastifyRequest): Promise<void> {
  const app = request.server;
  const { room } = request.params as { room: string };
  const { token, name } = request.query as { token?: unknown; name?: unknown };
  if (request.sessionExpired) throw httpError('session_expired');
  if (request.user) {
    // `originalExpires` is the login's expiry; `expires` is recomputed from maxAge per request.
    const cookie = request.session?.cookie as { originalExpires?: Date | null; expires?: Date | null } | undefined;
    const expires = cookie?.originalExpires ?? cookie?.expires;
    request.identity = {
      kind: 'account',
      user: request.user.username,
      ...(request.sessionTag === undefined ? {} : { session: request.sessionTag }),
      ...(expires ? { expiresAt: new Date(expires).getTime() } : {}),
    };
    return;
  }
  if (token !== undefined) {
    if (typeof token !== 'string') throw httpError('invalid_query', '"token" must be given once.');
    request.identity = { kind: 'token', user: await tokenUser(app, token, room) };
    return;
  }
  const cookie = request.headers.cookie;
  if (app.identity.hook && cookie) {
    let answer;
    try {
      answer = await app.identity.hook.ask(cookie);
    } catch (error) {
      if (!(error instanceof HookUnavailable)) throw error;
      request.log.warn({ reason: error.message }, 'auth hook unavailable; upgrade refused');
      throw httpError('unavailable', `Cannot tell who you are right now (${error.message}); try again.`);
    }
    if (answer.user !== null) {
      request.identity = { kind: 'hook', user: answer.user };
      return;
    }
  }
  request.identity = await guestIdentity(request, room, name);
}

export function identityServices(app: FastifyInstance, signOuts: SignOuts): IdentityServices {
  const { config } = app;
  return {
    tokens: TokenVerifier.fromConfig(config),
    hook: config.authHookUrl === undefined ? undefined : new AuthHook({ url: config.authHookUrl }),
    signOuts,
    reserved: reservedNames(config),
  };
}
