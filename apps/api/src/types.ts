import type { Accounts } from './accounts/accounts.js';
import type { Backend } from './backend.js';
import type { Config } from './config.js';
import type { DjangoBridge } from './django/bridge.js';
import type { RoomConsumer } from './consumers/room-consumer.js';
import type { Metrics } from './metrics.js';
import type { Publisher } from './rooms/publisher.js';

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
  }
  interface FastifyRequest {
    /** The session's user, or null when anonymous. Set by the session plugin before preValidation. */
    user: SessionUser | null;
  }
  /** What a session holds (@fastify/session): the logged-in user, once logged in. */
  interface Session {
    user?: SessionUser;
  }
}
