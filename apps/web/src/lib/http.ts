import type { ErrorBody } from '@roomcast/protocol';

/** A refusal from the API (its `{error, code}` body), or a network failure (`status` 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const isErrorBody = (value: unknown): value is ErrorBody =>
  typeof value === 'object' && value !== null && typeof (value as ErrorBody).error === 'string' && typeof (value as ErrorBody).code === 'string';

/**
 * One HTTP call to the API, same origin (the session cookie goes along). Resolves with the JSON
 * body, `undefined` for 204; rejects with an ApiError whose message a person can read.
 */
export async function requestJson<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection.');
  }
  if (response.status === 204) return undefined as T;
  const data: unknown = await response.json().catch(() => undefined);
  if (response.ok && data !== undefined) return data as T;
  if (isErrorBody(data)) throw new ApiError(response.status, data.code, data.error);
  // A proxy or a server that is starting up answers without our error body.
  throw new ApiError(response.status, 'unavailable', `The server answered ${response.status}. Try again in a moment.`);
}
