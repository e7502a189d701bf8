import { STATUS_CODES, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { compile } from '@fastify/proxy-addr';
import { ERRORS, type ErrorCode } from '@roomcast/protocol';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import fp from 'fastify-plugin';
import type { Config, TrustProxy } from '../config.js';
import { errorBody, httpError } from '../errors.js';
import { clientKey } from '../limits/client-key.js';
import { ConnectionsPerClient } from '../limits/connections-per-client.js';
import '../types.js';

/**
 * The network edge: what a connection may cost before any route sees it. Timeouts bound slow
 * headers, slow bodies and idle keep-alive connections; connections are counted per client when
 * they are accepted; an upgrade is refused everywhere but on the chat socket's route.
 */

/** How long a refused connection may linger for its answer to be read, before it is cut. */
const REFUSED_LINGER_MS = 1000;
/** Seconds a client over the connection cap is told to wait. */
const CONNECTIONS_RETRY_AFTER_S = 5;

/** Fastify's server options for the timeouts of `config` (see docs/security.md, "The network edge"). */
export function edgeServerOptions(config: Config): Pick<
  FastifyServerOptions,
  'connectionTimeout' | 'keepAliveTimeout' | 'requestTimeout' | 'clientErrorHandler' | 'trustProxy'
> & { http: ServerOptions } {
  // Node checks header and request deadlines on this tick (30 s by default, longer than the
  // deadlines themselves): a quarter of the header deadline, at most a second.
  const checkingInterval = Math.min(1000, Math.max(25, Math.floor(config.headersTimeoutMs / 4)));
  return {
    trustProxy: config.trustProxy === false ? false : proxyTrust(config.trustProxy),
    http: {
      headersTimeout: config.headersTimeoutMs,
      // Here too, not only below: Node refuses a header deadline past its 300 s default request deadline.
      requestTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval,
    },
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    // A connection silent this long (a client that stopped reading its answer) is cut. Two ticks
    // past the request deadline, so a stalled request body hears its 408 first. Upgraded sockets
    // are not affected: ws turns this off for them, and the heartbeat watches them.
    connectionTimeout: config.requestTimeoutMs + 2 * checkingInterval,
    clientErrorHandler,
  };
}

/** Malformed or late requests, answered in the same `{error, code}` shape as every other refusal. */
function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  this.log.debug({ err: error }, 'client error');
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.metrics.refusedAtEdge('request_timeout');
  const [status, code, message]: [number, ErrorCode, string] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, 'timeout', ERRORS.timeout.message]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'too_large', 'The request headers are too large.']
        : [400, 'invalid_body', 'The request is not valid HTTP.'];
  // An answer already under way must not get a second one spliced into it (Node's own rule).
  const answering = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !answering) socket.write(rawResponse(status, JSON.stringify(errorBody(code, message))));
  socket.destroy();
}

function rawResponse(status: number, body: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ 'content-type': 'application/json; charset=utf-8', ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.map(([name, value]) => `${name}: ${value}`).join('\r\n')}\r\n\r\n${body}`;
}

export const tooManyConnections = (cap: number): string => `At most ${cap} open connections per address.`;

/**
 * Counts `socket` under the client at `address` until it closes (see ConnectionsPerClient);
 * false, counted in the metrics, when that client is at the cap.
 */
export function admitConnection(app: FastifyInstance, socket: Socket, address: string): boolean {
  if (app.connectionsPerClient.cap <= 0 || app.connectionsPerClient.admit(socket, clientKey(address))) return true;
  app.metrics.refusedAtEdge('connections_per_address');
  return false;
}

/**
 * Which hops of a request's path (0: the peer, 1: the address it put in `X-Forwarded-For`, ...) are
 * proxies to see through. A hop count trusts that many hops whatever their address (Express's
 * meaning; Fastify's own numeric trustProxy now believes nothing), so Roomcast must then be
 * reachable only through the proxy. An address list trusts only peers on the list.
 */
function proxyTrust(trust: TrustProxy): (address: string, hop: number) => boolean {
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return compile(trust);
}

/**
 * Puts `admit` in front of the HTTP server's own `connection` listener, so a refused connection
 * never reaches the HTTP parser: it gets a short 429 and is closed, holding no descriptor for
 * longer than REFUSED_LINGER_MS however slowly its owner writes.
 */
function gateConnections(server: Server, admit: (socket: Socket) => string | undefined): void {
  const accept = server.listeners('connection') as Array<(this: Server, socket: Socket) => void>;
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    const refusal = admit(socket);
    if (refusal === undefined) {
      for (const listener of accept) listener.call(server, socket);
      return;
    }
    socket.on('error', () => socket.destroy());
    socket.end(rawResponse(429, JSON.stringify(errorBody('rate_limited', refusal)), { 'retry-after': String(CONNECTIONS_RETRY_AFTER_S) }));
    // Read and drop the request: closing with unread bytes would reset the connection and could
    // destroy the answer before the client reads it.
    socket.resume();
    setTimeout(() => socket.destroy(), REFUSED_LINGER_MS).unref();
  });
}

export default fp(
  async (app) => {
    const { maxConnectionsPerIp, trustProxy } = app.config;
    app.decorate('connectionsPerClient', new ConnectionsPerClient(maxConnectionsPerIp));
    const trusted = proxyTrust(trustProxy);
    // No cap (benchmarks): no gate, not even an address parsed per connection.
    if (maxConnectionsPerIp > 0) {
      gateConnections(app.server, (socket) => {
        const address = socket.remoteAddress;
        // A proxy's connection carries many clients: they are counted at the upgrade instead.
        if (address === undefined || trusted(address, 0)) return undefined;
        return admitConnection(app, socket, address) ? undefined : tooManyConnections(maxConnectionsPerIp);
      });
    }

    // @fastify/websocket routes an upgrade through every route, and a route that is not a socket
    // would answer 101 and then hold the socket in a close handshake: refuse it before that.
    app.addHook('onRequest', async (request) => {
      if ((request.raw as IncomingMessage & { upgrade?: boolean }).upgrade === true && request.routeOptions.config.acceptsUpgrade !== true) {
        throw httpError('not_found', `No WebSocket at ${request.url.split('?')[0]}.`);
      }
    });
  },
  { name: 'roomcast-network-edge', fastify: '5.x', dependencies: ['@fastify/websocket'] },
);
