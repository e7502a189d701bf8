import fp from 'fastify-plugin';
import '../types.js';

/**
 * Gives every request its `user`. Anonymous until a session plugin sets it; the session plugin
 * (accounts issue) resolves the cookie in an `onRequest` hook registered after this one.
 */
export default fp(
  async (app) => {
    app.decorateRequest('user', null);
  },
  { name: 'roomcast-identity', fastify: '5.x' },
);
