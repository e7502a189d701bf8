import type { FastifyInstance } from 'fastify';
import { errorBody, httpError } from '../errors.js';
import { METRICS_CONTENT_TYPE } from '../metrics.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = await app.backend.ready().catch(() => false);
    if (ready) return { status: 'ready', backend: app.backend.kind };
    return reply.status(503).send(errorBody('unavailable', `The ${app.backend.kind} backend does not answer.`));
  });

  app.metrics.readNodeGauges(() => ({
    rooms: new Set([...app.consumers].map((consumer) => consumer.room)).size,
    backend: app.backend.kind,
    node: app.backend.nodeId,
  }));

  app.get('/metrics', async (request, reply) => {
    let text: string;
    try {
      text = await app.metrics.render();
    } catch (error) {
      request.log.warn({ err: error }, 'metrics of the other workers did not arrive');
      throw httpError('unavailable', 'The metrics of the other workers did not arrive in time.');
    }
    return reply.type(METRICS_CONTENT_TYPE).send(text);
  });
}
