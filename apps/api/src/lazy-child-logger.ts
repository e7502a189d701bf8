import type { FastifyBaseLogger, FastifyServerOptions } from 'fastify';

/** What pino adds to Fastify's logger interface, used here if it is there. */
type PinoLogger = FastifyBaseLogger & { isLevelEnabled?(level: string): boolean; bindings?(): Record<string, unknown> };

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/**
 * Fastify's `childLoggerFactory`: a request's logger (`request.log`, bound to its `reqId`) made
 * only when the request first logs. pino builds a child's bindings through the redaction paths
 * each time (`asChindings`): 7% of the server's CPU per API publish in a profile, for a logger
 * that at the default level almost never writes. Levels the parent has off stay the parent's
 * no-ops; the first call of any other method makes the real child and hands it over.
 */
export const lazyChildLogger: NonNullable<FastifyServerOptions['childLoggerFactory']> = function (parent, bindings, options) {
  const logger = parent as PinoLogger;
  let real: PinoLogger | undefined;
  const child = (): PinoLogger => (real ??= logger.child(bindings, options) as PinoLogger);
  const lazy = Object.create(logger) as Record<string, unknown>;
  for (const level of LEVELS) {
    if (logger.isLevelEnabled?.(level) ?? true) lazy[level] = (...args: unknown[]) => (child()[level] as (...a: unknown[]) => void)(...args);
  }
  lazy.child = (more: Record<string, unknown>, moreOptions?: object) => child().child(more, moreOptions);
  lazy.bindings = () => child().bindings?.();
  return lazy as unknown as FastifyBaseLogger;
};
