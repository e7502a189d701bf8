import { SESSION_COOKIE } from '../src/plugins/session.js';
import type { TestNode } from './helpers.js';

/** Passwords used across the auth tests: long, distinctive, easy to search logs for. */
export const PASSWORD = 'correct horse battery staple';

export interface CallOptions {
  /** `name=value` of the session cookie to send. */
  cookie?: string;
  origin?: string;
  headers?: Record<string, string>;
}

export interface CallResult {
  status: number;
  body: unknown;
  headers: Headers;
  /** `name=value` of the session cookie this response set, if it set one (not a clearing one). */
  cookie: string | undefined;
  /** The raw `Set-Cookie` line for the session cookie, if any. */
  setCookie: string | undefined;
}

/** One HTTP call to `node`, JSON in and out, with the session cookie and `Origin` if given. */
export async function call(node: TestNode, method: string, path: string, body?: unknown, options: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { ...options.headers };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  if (options.origin !== undefined) headers.origin = options.origin;
  const response = await fetch(`${node.url}${path}`, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON: left as text for the assertion to show
  }
  const setCookie = response.headers.getSetCookie().find((line) => line.startsWith(`${SESSION_COOKIE}=`));
  const pair = setCookie?.split(';')[0];
  const cookie = pair !== undefined && pair !== `${SESSION_COOKIE}=` ? pair : undefined;
  return { status: response.status, body: parsed, headers: response.headers, cookie, setCookie };
}

/** The session ID inside a `roomcast_session=ID.SIGNATURE` cookie. */
export function sessionIdOf(cookie: string): string {
  const value = decodeURIComponent(cookie.slice(cookie.indexOf('=') + 1));
  return value.slice(0, value.lastIndexOf('.'));
}

/** Registers `username` and returns its session cookie. */
export async function register(node: TestNode, username: string, password = PASSWORD, options: CallOptions = {}): Promise<string> {
  const result = await call(node, 'POST', '/auth/register', { username, password }, options);
  if (result.status !== 201 || result.cookie === undefined) throw new Error(`register ${username}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.cookie;
}

/** Logs `username` in and returns its session cookie. */
export async function login(node: TestNode, username: string, password = PASSWORD, options: CallOptions = {}): Promise<string> {
  const result = await call(node, 'POST', '/auth/login', { username, password }, options);
  if (result.status !== 200 || result.cookie === undefined) throw new Error(`login ${username}: ${result.status} ${JSON.stringify(result.body)}`);
  return result.cookie;
}

/** The username `cookie` authenticates as, or null. */
export async function whoAmI(node: TestNode, cookie: string): Promise<string | null> {
  const result = await call(node, 'GET', '/auth/me', undefined, { cookie });
  if (result.status === 401) return null;
  if (result.status !== 200) throw new Error(`/auth/me: ${result.status} ${JSON.stringify(result.body)}`);
  return (result.body as { user: { username: string } }).user.username;
}
