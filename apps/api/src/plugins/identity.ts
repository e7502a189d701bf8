import fp from 'fastify-plugin';
import { identityServices } from '../identity/identity.js';
import { SignOuts } from '../identity/sign-outs.js';
import '../types.js';

/**
 * Who people are beyond the session: connection tokens, the auth hook, reserved names, and the
 * sign-outs that close a logged-out session's sockets on every node.
 */
export default fp(
  async (app) => {
    const signOuts = new SignOuts(app.backend.layer, app.log);
    await signOuts.start();
    app.decorate('identity', identityServices(app, signOuts));
    app.decorateRequest('identity', null);
    app.addHook('preClose', async () => {
      await signOuts.stop().catch(() => undefined);
    });
  },
  { name: 'roomcast-identity', fastify: '5.x', dependencies: ['roomcast-backend', 'roomcast-session'] },
);
