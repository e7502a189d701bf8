import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import helmet from 'helmet';

/**
 * Security headers on every answer, with a Content-Security-Policy the built SPA passes: its
 * scripts and styles are bundled files of this origin, its socket goes to this origin, and no
 * page may frame it. HSTS is left to the TLS-terminating proxy: this server speaks plain HTTP.
 *
 * Helmet decides the headers, once: @fastify/helmet builds a new helmet (and parses the whole
 * policy again) for every request, 9% of an API publish and 5% of a socket upgrade in profiles,
 * and even a helmet built once walked its twelve middlewares for every answer, 7.6% of an API
 * publish. None of them reads the request (no nonces), so the headers it sets are read off it
 * at start-up and every answer gets that list.
 */
const helmetMiddleware = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  strictTransportSecurity: false,
});

/** The headers helmet sets on an answer, in its order (what it removes, X-Powered-By, nothing here sets). */
function headersOf(middleware: typeof helmetMiddleware): ReadonlyArray<readonly [string, string]> {
  const headers: Array<[string, string]> = [];
  const recorder = {
    setHeader: (name: string, value: string) => headers.push([name, value]),
    removeHeader: () => undefined,
  };
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

const SECURITY_HEADERS = headersOf(helmetMiddleware);

const isUpgrade = (request: FastifyRequest): boolean => (request.raw as IncomingMessage & { upgrade?: boolean }).upgrade === true;

function apply(reply: FastifyReply): void {
  for (const [name, value] of SECURITY_HEADERS) reply.raw.setHeader(name, value);
}

/**
 * A WebSocket upgrade that succeeds answers 101 written by `ws`, which carries none of these
 * headers: an upgrade gets them only when it is refused with a plain HTTP answer (`onSend`).
 */
export default fp(
  async (app) => {
    app.addHook('onRequest', (request, reply, done) => {
      if (!isUpgrade(request)) apply(reply);
      done();
    });
    app.addHook('onSend', (request, reply, payload, done) => {
      if (isUpgrade(request)) apply(reply);
      done(null, payload);
    });
  },
  { name: 'roomcast-security-headers', fastify: '5.x' },
);
