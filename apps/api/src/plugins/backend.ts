import fp from 'fastify-plugin';
import { createBackend } from '../backend.js';
import { Metrics } from '../metrics.js';
import { Publisher } from '../rooms/publisher.js';
import '../types.js';

/** Decorates the app with its backend, metrics and publisher, and closes the backend last. */
export default fp(
  async (app) => {
    const metrics = new Metrics();
    const backend = await createBackend({ config: app.config, log: app.log, metrics });
    app.decorate('metrics', metrics);
    app.decorate('backend', backend);
    app.decorate('publisher', new Publisher(backend.history, metrics));
    app.addHook('onClose', async () => {
      await backend.close();
    });
  },
  { name: 'roomcast-backend', fastify: '5.x' },
);
