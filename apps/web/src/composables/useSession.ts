import type { PublicUser } from '@roomcast/protocol';
import { readonly, shallowRef, type Ref } from 'vue';
import { fetchMe, logIn, logOut, register, type Credentials } from '../lib/api.js';

/** `unknown` until `/auth/me` has answered once. */
export type SessionState = 'unknown' | 'anonymous' | 'signed-in';

// One session per page: module state, shared by every component that calls useSession().
const user = shallowRef<PublicUser | null>(null);
const state = shallowRef<SessionState>('unknown');
let loading: Promise<void> | undefined;

function settle(next: PublicUser | null): void {
  user.value = next;
  state.value = next === null ? 'anonymous' : 'signed-in';
}

async function load(): Promise<void> {
  try {
    settle(await fetchMe());
  } catch {
    // 401 is "nobody"; a server that is down or has no accounts also leaves us a guest.
    settle(null);
  }
}

export interface UseSession {
  user: Readonly<Ref<PublicUser | null>>;
  state: Readonly<Ref<SessionState>>;
  /** Asks the server who we are (once per page unless `force`). */
  refresh(force?: boolean): Promise<void>;
  register(credentials: Credentials): Promise<void>;
  logIn(credentials: Credentials): Promise<void>;
  logOut(): Promise<void>;
}

/** Who is logged in, and the calls that change it. Errors reject as ApiError with a readable message. */
export function useSession(): UseSession {
  return {
    user: readonly(user) as Readonly<Ref<PublicUser | null>>,
    state: readonly(state),
    refresh(force = false) {
      if (force || loading === undefined) loading = load();
      return loading;
    },
    async register(credentials) {
      settle(await register(credentials));
    },
    async logIn(credentials) {
      settle(await logIn(credentials));
    },
    async logOut() {
      await logOut();
      settle(null);
    },
  };
}
