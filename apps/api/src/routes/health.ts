import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorBody, httpError } from '../errors.js';
import { bearerToken, sameSecret } from '../security/api-keys.js';

/** With METRICS_TOKEN set, `/metrics` answers only `Authorization: Bearer METRICS_TOKEN`. */
async function requireMetricsToken(request: FastifyRequest): Promise<void> {
  const expected = request.server.config.metricsToken;
  if (expected === undefined) return;
  const presented = bearerToken(request.headers.authorization);
  if (presented === undefined || !sameSecret(expected, presented)) {
    throw httpError('unauthorized', 'Metrics need Authorization: Bearer METRICS_TOKEN.');
  }
}

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_request, reply) => {
    const ready = await app.backend.ready().catch(() => false);
    if (ready) return { status: 'ready', backend: app.backend.kind };
    return reply.status(503).send(errorBody('unavailable', `The ${app.backend.kind} backend does not answer.`));
  });

  app.get('/metrics', { onRequest: [requireMetricsToken] }, async (_request, reply) => {
    const rooms = new Set([...app.consumers].map((consumer) => consumer.room)).size;
    return reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(app.metrics.render({ rooms, backend: app.backend.kind, node: app.backend.nodeId }));
  });
}
