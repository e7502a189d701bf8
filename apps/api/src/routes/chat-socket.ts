import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CLIENT_ID_PATTERN, CLOSE, SUBPROTOCOL, isMessageId } from '@roomcast/protocol';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Replays } from '../consumers/replay.js';
import { ChatOnlyConsumer, RoomConsumer } from '../consumers/room-consumer.js';
import { httpError } from '../errors.js';
import { SECURITY, refusals } from '../openapi/route-docs.js';
import { MessageBudgets } from '../limits/message-budgets.js';
import { admitConnection, tooManyConnections } from '../plugins/network-edge.js';
import { clientKey } from '../limits/client-key.js';
import { identifySocket } from '../identity/identity.js';
import { requireSocketAccess } from '../rooms/access.js';
import { requireAllowedOrigin, requireRoom } from './guards.js';

async function requireValidQuery(request: FastifyRequest): Promise<void> {
  const { since, client } = request.query as { since?: unknown; client?: unknown };
  if (since !== undefined && !isMessageId(since)) {
    throw httpError('invalid_query', '"since" must be a message ID from this room.');
  }
  if (client !== undefined && !(typeof client === 'string' && CLIENT_ID_PATTERN.test(client))) {
    throw httpError('invalid_query', '"client" must be 16 to 64 visible ASCII characters.');
  }
}

/** Heartbeat work is spread over the interval in turns about this long... */
const HEARTBEAT_TURN_MS = 20;
/** ...in at most this many slices (a long interval gets longer turns, not more slices). */
const HEARTBEAT_MAX_SLICES = 1500;

/**
 * Pings every socket each `intervalMs`; one that did not answer the previous ping is gone (a
 * phone that lost its network, a half-open TCP connection) and is cut, so it leaves its room and
 * presence instead of lingering as a zombie member. Sockets are dealt round-robin into slices
 * and one slice is checked per turn of ~20 ms, so each socket is still checked exactly once per
 * interval: pinging every socket in one turn stalled every room while it ran. Across 18,000
 * sockets, delivery p99 was 319 ms (424 ms at worst) over a window holding one heartbeat; in
 * 100 ms turns 2.3 ms, in 20 ms turns 1.6 ms, against 1.5 ms with no heartbeat at all.
 */
function startHeartbeat(app: FastifyInstance, intervalMs: number): void {
  if (intervalMs <= 0) return;
  const count = Math.min(HEARTBEAT_MAX_SLICES, Math.max(1, Math.round(intervalMs / HEARTBEAT_TURN_MS)));
  const slices = Array.from({ length: count }, () => new Set<WebSocket>());
  const sliceOf = new WeakMap<WebSocket, Set<WebSocket>>();
  const alive = new WeakSet<WebSocket>();
  let dealt = 0;
  // Shared listeners (the socket is `this`): no closure per socket.
  const markAlive = function (this: WebSocket): void {
    alive.add(this);
  };
  const leave = function (this: WebSocket): void {
    sliceOf.get(this)?.delete(this);
  };
  app.websocketServer.on('connection', (socket: WebSocket) => {
    const slice = slices[dealt % slices.length]!;
    dealt += 1;
    slice.add(socket);
    sliceOf.set(socket, slice);
    alive.add(socket);
    socket.on('pong', markAlive);
    socket.on('close', leave);
  });
  let turn = 0;
  const timer = setInterval(() => {
    const slice = slices[turn]!;
    turn = (turn + 1) % slices.length;
    for (const socket of slice) {
      if (!alive.has(socket)) {
        socket.terminate();
        continue;
      }
      alive.delete(socket);
      socket.ping();
    }
  }, intervalMs / slices.length);
  timer.unref();
  app.addHook('onClose', async () => clearInterval(timer));
}

/**
 * `/ws/chat/:room/`: the room's WebSocket. Every check runs before the upgrade, so a refusal is a
 * plain HTTP status with a JSON body; after the upgrade the consumer answers with error frames.
 */
export default async function chatSocketRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app;
  const budgets = new MessageBudgets(app.config);
  app.addHook('onClose', async () => budgets.close());
  // A direct client's connection was counted when it was accepted; one that came through a
  // trusted proxy counts here, under the address the proxy vouches for, until it closes.
  const requireConnectionSlot = async (request: FastifyRequest): Promise<void> => {
    if (!admitConnection(app, request.raw.socket, request.ip)) {
      throw httpError('rate_limited', tooManyConnections(app.config.maxConnectionsPerIp), 5);
    }
    // New sockets per address, over the cluster: reconnecting must not renew an allowance.
    const rate = app.config.connectRate;
    if (rate > 0) {
      const decision = await app.backend.limiter.take(`connect:${clientKey(request.ip)}`, rate, rate * 2);
      if (!decision.allowed) {
        throw httpError('rate_limited', `At most ${rate} new sockets a second per address.`, Math.max(1, Math.ceil(decision.retryAfterMs / 1000)));
      }
    }
  };
  // A resume reads history: at most RESUME_RATE a second per address (across nodes on Redis).
  const requireResumeAllowance = async (request: FastifyRequest): Promise<void> => {
    if ((request.query as { since?: unknown }).since === undefined || config.resumeRate === 0) return;
    // A limiter that cannot answer (Redis away) lets the resume in: the replay budget still bounds it.
    const decision = await app.backend.limiter.take(`resume:${clientKey(request.ip)}`, config.resumeRate, config.resumeRate * 2).catch(() => undefined);
    if (decision && !decision.allowed) {
      const seconds = Math.max(1, Math.ceil(decision.retryAfterMs / 1000));
      throw httpError('rate_limited', `At most ${config.resumeRate} resumes a second per address; try again shortly.`, seconds);
    }
  };
  const replays = new Replays({ history: app.backend.history, maxBytes: config.resumeMaxBytes, bufferPerIp: config.resumeBufferPerIp });
  startHeartbeat(app, app.config.heartbeatMs);

  const socketSchema = {
    tags: ['rooms'],
    summary: 'Follow a room live (WebSocket)',
    description:
      'A WebSocket upgrade (`Upgrade: websocket`; offer the subprotocol `roomcast.v1` for every frame type). Send `{"message": "text"}`; receive `chat.message`, `presence`, `typing`, `recovered` and `error` frames, as docs/protocol.md describes. Every check runs before the upgrade, so a refusal is a plain HTTP answer.',
    security: SECURITY.anyone,
    params: { type: 'object', properties: { room: { type: 'string', description: '1 to 64 letters, digits, "_" or "-".' } } },
    querystring: {
      type: 'object',
      properties: {
        since: {
          type: 'string',
          description: 'Resume after this message ID: every kept message after it first, then `recovered`, then live ones, with no gap and no duplicate.',
        },
        client: {
          type: 'string',
          description: 'A random ID (16 to 64 visible ASCII characters) kept across reconnects: an anonymous sender\'s nonces are scoped to it.',
        },
        token: { type: 'string', description: 'A connection token (JWT) signed by your site: see docs/identity.md.' },
        name: { type: 'string', description: 'A guest\'s display name (the username rule); shown as "guest" on its frames.' },
      },
    },
    response: {
      101: { description: 'Switching Protocols: the socket is open and joined to the room.', type: 'null' },
      ...refusals('invalid_room', 'invalid_query', 'unauthorized', 'login_required', 'session_expired', 'forbidden_origin', 'forbidden', 'banned', 'rate_limited', 'unavailable'),
    },
  };

  app.get<{ Params: { room: string }; Querystring: { since?: string; client?: string } }>(
    '/ws/chat/:room',
    {
      websocket: true,
      schema: socketSchema,
      // @fastify/websocket hides socket routes from the OpenAPI document; this one is the API's heart.
      config: { acceptsUpgrade: true, swaggerTransform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }) },
      preValidation: [requireRoom, requireAllowedOrigin, requireValidQuery, requireConnectionSlot, requireResumeAllowance, identifySocket, requireSocketAccess],
    },
    (socket, request) => {
      const identity = request.identity ?? { kind: 'guest', user: null };
      const Consumer = socket.protocol === SUBPROTOCOL ? RoomConsumer : ChatOnlyConsumer;
      const consumer = new Consumer(socket, {
        room: request.params.room,
        user: identity.user,
        guest: identity.guest,
        ip: clientKey(request.ip),
        budgets,
        since: request.query.since,
        clientId: request.query.client,
        replays,
        backend: app.backend,
        publisher: app.publisher,
        config: app.config,
        metrics: app.metrics,
        // Not request.log: a child logger per idle socket is memory; the consumer makes one when it logs.
        log: app.log,
        requestId: request.id,
        ...(request.roomStanding ? { standing: request.roomStanding } : {}),
      });
      app.consumers.add(consumer);
      // Logout of this session, on any node, closes this socket with 4001.
      const forget = identity.session === undefined ? undefined : app.identity.signOuts.track(identity.session, consumer);
      // A session that expires while its socket is open ends the socket too, like a logout.
      const expiry =
        identity.expiresAt === undefined ? undefined : setTimeout(() => consumer.close(CLOSE.signedOut, 'signed out'), Math.max(0, identity.expiresAt - Date.now()));
      expiry?.unref();
      socket.on('close', () => {
        app.consumers.delete(consumer);
        forget?.();
        clearTimeout(expiry);
      });
      releaseUpgradeRequest(socket, request);
      consumer.start();
    },
  );
}

/**
 * Lets the upgrade's HTTP objects go before the socket is handed to its consumer. Otherwise each
 * open socket keeps its request, reply, session, headers and HTTP response alive (through
 * @fastify/websocket's error listener, and the response still assigned to the TCP socket):
 * about 3.5 KB per idle connection, a third of what one costs. The consumer attaches its own
 * error listener right after, in the same turn; ws closes a socket itself after an error.
 */
function releaseUpgradeRequest(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners('error');
  const tcp = request.raw.socket as Socket & { _httpMessage?: unknown };
  if (tcp._httpMessage instanceof ServerResponse) tcp._httpMessage.detachSocket(tcp);
}
