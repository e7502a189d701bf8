import type { Accounts } from './accounts/accounts.js';
import type { Backend } from './backend.js';
import type { Config } from './config.js';
import type { ConnectionsPerClient } from './limits/connections-per-client.js';
import type { DjangoBridge } from './django/bridge.js';
import type { RoomConsumer } from './consumers/room-consumer.js';
import type { Identity, IdentityServices } from './identity/identity.js';
import type { Metrics } from './metrics.js';
import type { Publisher } from './rooms/publisher.js';
import type { RoomStanding } from './registry/room-registry.js';
import type { RoomControl } from './rooms/room-control.js';

/** The logged-in user of a request, as the session knows them. */
export interface SessionUser {
  username: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    backend: Backend;
    metrics: Metrics;
    publisher: Publisher;
    /** Open room sockets on this node; shutdown closes each with 1012 and waits for it to leave. */
    consumers: Set<RoomConsumer>;
    /** The Django Channels bridge, or null when DJANGO_CHANNEL_LAYER is unset. */
    django: DjangoBridge | null;
    /** Registration and password checks, over the backend's account store. */
    accounts: Accounts;
    /** Open connections per client address on this node (the network edge). */
    connectionsPerClient: ConnectionsPerClient;
    /** Tokens, the auth hook, reserved names, sign-outs. */
    identity: IdentityServices;
    /** Carries room changes (removals, kicks, bans, settings) to every node's sockets. */
    roomControl: RoomControl;
  }
  interface FastifyContextConfig {
    /** The route is a WebSocket: an upgrade to any other route is refused with 404. */
    acceptsUpgrade?: boolean;
    /**
     * The route never reads the session of a request that presents `Authorization: Bearer`
     * (an API key or a connection token decides who it is): such a request skips the session lookup.
     */
    bearerSkipsSession?: boolean;
  }
  interface FastifyRequest {
    /** The session's user, or null when anonymous. Set by the session plugin before preValidation. */
    user: SessionUser | null;
    /** A session cookie came with the request but its session is gone: refuse, never serve as a guest. */
    sessionExpired: boolean;
    /** Tag of the live session (`sessionTag`), when there is a user. */
    sessionTag: string | undefined;
    /** Who a socket upgrade is, once `identifySocket` ran. */
    identity: Identity | null;
    /** The room's standing for that person, once `requireSocketAccess` ran. */
    roomStanding: RoomStanding | null;
  }
  /** What a session holds (@fastify/session): the logged-in user, once logged in. */
  interface Session {
    user?: SessionUser;
  }
}
