import type { FastifyInstance, FastifyRequest, FastifySchema } from 'fastify';
import { errorBody, httpError } from '../errors.js';
import { METRICS_CONTENT_TYPE } from '../metrics.js';
import { refusals } from '../openapi/route-docs.js';
import { bearerToken, sameSecret } from '../security/api-keys.js';

const statusBody = (description: string, properties: Record<string, object> = {}) => ({
  description,
  type: 'object',
  required: ['status'],
  properties: { status: { type: 'string' }, ...properties },
});

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
  const healthzSchema = {
    tags: ['operations'],
    summary: 'Liveness: the process runs',
    response: { 200: statusBody('`{"status": "ok"}` while the process runs.') },
  };
  app.get('/healthz', { schema: healthzSchema }, async () => ({ status: 'ok' }));

  const readyzSchema: FastifySchema = {
    tags: ['operations'],
    summary: 'Readiness: the backend answers',
    description: 'Point a load balancer\'s health check or a readiness probe here.',
    response: {
      200: statusBody('The backend (Redis, or the embedded one) answers.', { backend: { type: 'string', enum: ['memory', 'redis'] } }),
      ...refusals('unavailable'),
    },
  };
  app.get('/readyz', { schema: readyzSchema }, async (_request, reply) => {
    const ready = await app.backend.ready().catch(() => 'it does not answer');
    if (ready !== true) return reply.status(503).send(errorBody('unavailable', `The ${app.backend.kind} backend is not ready: ${ready}.`));
    if (app.django && !(await app.django.ready().catch(() => false))) {
      return reply.status(503).send(errorBody('unavailable', "The Django channel layer's Redis does not answer."));
    }
    return { status: 'ready', backend: app.backend.kind };
  });

  app.metrics.readNodeGauges(() => ({
    rooms: new Set([...app.consumers].map((consumer) => consumer.room)).size,
    backend: app.backend.kind,
    node: app.backend.nodeId,
  }));

  const metricsSchema = {
    tags: ['operations'],
    summary: 'Prometheus metrics',
    description: 'Process and Node.js metrics and Roomcast\'s own; under WORKERS, of every worker.',
    response: {
      200: { description: 'Prometheus text format 0.0.4.', content: { [METRICS_CONTENT_TYPE]: { schema: { type: 'string' } } } },
      ...refusals('unauthorized', 'unavailable'),
    },
  };
  app.get('/metrics', { schema: metricsSchema, onRequest: [requireMetricsToken] }, async (request, reply) => {
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
