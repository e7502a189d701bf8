import createError from '@fastify/error';
import { ERRORS, type ErrorBody, type ErrorCode } from '@roomcast/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isBackendError } from './backend-errors.js';

/** One error class per code of the protocol's list, so statuses and messages live in one place. */
const ERROR_CLASSES = Object.fromEntries(
  Object.entries(ERRORS).map(([code, { status, message }]) => [code, createError(code, message, status)]),
) as Record<ErrorCode, ReturnType<typeof createError>>;

export interface RoomcastError extends FastifyError {
  code: ErrorCode;
  statusCode: number;
  /** Seconds, sent as `Retry-After` (rate limits). */
  retryAfter?: number;
  /** Milliseconds until a retry may succeed, also in the body (slow mode). */
  retryAfterMs?: number;
}

/** A refusal to throw from a route or hook; the error handler turns it into `{error, code}`. */
export function httpError(code: ErrorCode, message?: string, retryAfter?: number): RoomcastError {
  const error = new ERROR_CLASSES[code]() as RoomcastError;
  // @fastify/error upper-cases codes; ours are lower snake case on the wire.
  error.code = code;
  if (message !== undefined) error.message = message;
  if (retryAfter !== undefined) error.retryAfter = retryAfter;
  return error;
}

export const errorBody = (code: ErrorCode, message?: string): ErrorBody => ({
  error: message ?? ERRORS[code].message,
  code,
});

const isRoomcastCode = (code: unknown): code is ErrorCode =>
  typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code);

/**
 * A plugin's own refusals keep their 4xx: @fastify/static answers a path that climbs out of its
 * root (`/assets/../../package.json`, `//rooms`) with 403, which is the client's doing, not a
 * server failure to log with a stack.
 */
const CLIENT_ERRORS: Partial<Record<number, { code: ErrorCode; message: string }>> = {
  400: { code: 'invalid_query', message: "The request's path or query is not valid." },
  401: { code: 'unauthorized', message: ERRORS.unauthorized.message },
  403: { code: 'forbidden', message: 'That path is not allowed.' },
  404: { code: 'not_found', message: ERRORS.not_found.message },
  413: { code: 'too_large', message: ERRORS.too_large.message },
  429: { code: 'rate_limited', message: ERRORS.rate_limited.message },
};

/** Fastify's own errors, mapped onto our codes. */
function translate(error: FastifyError): { status: number; code: ErrorCode; message: string } {
  if (isRoomcastCode(error.code)) return { status: error.statusCode ?? ERRORS[error.code].status, code: error.code, message: error.message };
  if (error.validation) {
    const code: ErrorCode = error.validationContext === 'querystring' ? 'invalid_query' : 'invalid_body';
    return { status: 400, code, message: `${ERRORS[code].message} ${error.message}`.trim() };
  }
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, code: 'too_large', message: ERRORS.too_large.message };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_body', message: `${ERRORS.invalid_body.message} Send a JSON object.` };
    default:
      break;
  }
  // Redis out of memory, timing out or away (a registration's write, a session's): 503, never 500.
  if (isBackendError(error)) return { status: 503, code: 'unavailable', message: ERRORS.unavailable.message };
  if (error instanceof SyntaxError) return { status: 400, code: 'invalid_body', message: 'The body is not valid JSON.' };
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, ...(CLIENT_ERRORS[status] ?? CLIENT_ERRORS[400]!) };
  return { status: 500, code: 'internal', message: ERRORS.internal.message };
}

/** Every error leaves as `{"error": "...", "code": "..."}` with its documented status. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const { status, code, message } = translate(error);
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const retryAfter = (error as RoomcastError).retryAfter;
    if (retryAfter !== undefined) void reply.header('retry-after', String(retryAfter));
    const retryAfterMs = (error as RoomcastError).retryAfterMs;
    return reply.status(status).send(retryAfterMs === undefined ? errorBody(code, message) : { ...errorBody(code, message), retryAfterMs });
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send(errorBody('not_found', `Nothing at ${request.method} ${request.url.split('?')[0]}.`)));
}
