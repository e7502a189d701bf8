import { createHash } from 'node:crypto';
import { isUsername } from '@roomcast/protocol';

/** What the site's hook said about a visitor. */
export type HookAnswer = { user: string } | { user: null };

/** The hook did not answer, or answered something that is not an answer: the upgrade gets 503. */
export class HookUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HookUnavailable';
  }
}

export interface AuthHookOptions {
  url: string;
  /** How long the hook may take. */
  timeoutMs?: number;
  /** How long an answer is reused for the same cookies. */
  cacheMs?: number;
  now?: () => number;
}

/** The hook may take this long before the upgrade is refused with 503. */
export const AUTH_HOOK_TIMEOUT_MS = 2000;
/** A visitor reconnecting, or opening three rooms, asks the site once. */
const CACHE_MS = 10_000;
/** Answers kept at most; the oldest go first. */
const CACHE_ENTRIES = 10_000;

/**
 * The auth hook: with AUTH_HOOK_URL set, a visitor without a Roomcast session is whoever the
 * site they are signed in to says. Their `Cookie` header goes to `GET AUTH_HOOK_URL`; `200
 * {"user": "name"}` is that user, 401 or 403 a guest. Anything else (a timeout, a 500, a body
 * that is not an answer) is HookUnavailable: never an open door, never a silent guest. Answers
 * are cached for a few seconds by a hash of the cookies (the cookies themselves are not kept).
 */
export class AuthHook {
  private readonly cache = new Map<string, { answer: HookAnswer; until: number }>();
  private readonly timeoutMs: number;
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly options: AuthHookOptions) {
    this.timeoutMs = options.timeoutMs ?? AUTH_HOOK_TIMEOUT_MS;
    this.cacheMs = options.cacheMs ?? CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  async ask(cookie: string): Promise<HookAnswer> {
    const key = createHash('sha256').update(cookie).digest('base64url');
    const cached = this.cache.get(key);
    if (cached && cached.until > this.now()) return cached.answer;
    const answer = await this.fetch(cookie);
    this.cache.delete(key);
    this.cache.set(key, { answer, until: this.now() + this.cacheMs });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return answer;
  }

  private async fetch(cookie: string): Promise<HookAnswer> {
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        headers: { cookie, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof Error && error.name === 'TimeoutError';
      throw new HookUnavailable(timedOut ? `the auth hook did not answer within ${this.timeoutMs} ms` : 'the auth hook cannot be reached');
    }
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      return { user: null };
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new HookUnavailable(`the auth hook answered ${response.status}`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    const user = (body as { user?: unknown } | undefined)?.user;
    if (typeof body !== 'object' || body === null || !isUsername(user)) {
      throw new HookUnavailable('the auth hook answered 200 without a valid {"user": "name"}');
    }
    return { user };
  }
}
