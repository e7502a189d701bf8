import helmet from '@fastify/helmet';
import fp from 'fastify-plugin';

/**
 * Security headers on every answer, with a Content-Security-Policy the built SPA passes: its
 * scripts and styles are bundled files of this origin, its socket goes to this origin, and no
 * page may frame it. HSTS is left to the TLS-terminating proxy: this server speaks plain HTTP.
 */
export default fp(
  async (app) => {
    await app.register(helmet, {
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
  },
  { name: 'roomcast-security-headers', fastify: '5.x' },
);
