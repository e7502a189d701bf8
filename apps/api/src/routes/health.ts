import type { FastifyInstance } from 'fastify';
import { errorBody } from '../errors.js';

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = await app.backend.ready().catch(() => false);
    if (!ready) return reply.status(503).send(errorBody('unavailable', `The ${app.backend.kind} backend does not answer.`));
    if (app.django && !(await app.django.ready().catch(() => false))) {
      return reply.status(503).send(errorBody('unavailable', "The Django channel layer's Redis does not answer."));
    }
    return { status: 'ready', backend: app.backend.kind };
  });

  app.get('/metrics', async (_request, reply) => {
    const rooms = new Set([...app.consumers].map((consumer) => consumer.room)).size;
    return reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(app.metrics.render({ rooms, backend: app.backend.kind, node: app.backend.nodeId }));
  });
}
