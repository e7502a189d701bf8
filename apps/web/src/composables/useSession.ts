import type { PublicUser } from '@roomcast/protocol';
import { readonly, shallowRef, type Ref } from 'vue';
import { fetchMe, logIn, logOut, register, type Credentials } from '../lib/api.js';
import { ApiError } from '../lib/http.js';
import { forgetOwner, ownerKey } from '../lib/identity.js';

/**
 * `unknown` until `/auth/me` has answered once. `signed-out`: this browser was signed in and no
 * longer is (logged out in another tab, the session expired, the server forgot it): the page
 * says so and offers to sign in again or to continue as a guest, instead of quietly becoming one.
 */
export type SessionState = 'unknown' | 'anonymous' | 'signed-in' | 'signed-out';

// One session per page: module state, shared by every component that calls useSession().
const user = shallowRef<PublicUser | null>(null);
const state = shallowRef<SessionState>('unknown');
/** Who was signed in when the session ended, for the "signed out" notice. */
const lastUser = shallowRef<string | null>(null);
let loading: Promise<void> | undefined;

/** Other tabs of this browser hear of a login or logout at once (their sockets hear 4001 too). */
const tabs = typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel('roomcast:session');
tabs?.addEventListener('message', (event: MessageEvent) => {
  if (event.data === 'logout' && user.value !== null) signedOut();
  else loading = load();
});

function settle(next: PublicUser | null): void {
  user.value = next;
  state.value = next === null ? 'anonymous' : 'signed-in';
}

/** The socket or an API call said the session ended (401 session_expired, close 4001). */
function signedOut(who?: string | null): void {
  if (state.value === 'signed-out') return;
  lastUser.value = who ?? user.value?.username ?? lastUser.value;
  user.value = null;
  state.value = 'signed-out';
}

async function load(): Promise<void> {
  try {
    settle(await fetchMe());
  } catch (error) {
    // 401 is "nobody"; a server that is down or has no accounts also leaves us a guest.
    if (error instanceof ApiError && error.code === 'session_expired') signedOut();
    // Signed out stays signed out until the person chooses: sign in again, or go on as a guest.
    else if (state.value !== 'signed-out') settle(null);
  }
}

export interface UseSession {
  user: Readonly<Ref<PublicUser | null>>;
  state: Readonly<Ref<SessionState>>;
  /** The user whose session ended, while the state is `signed-out`. */
  lastUser: Readonly<Ref<string | null>>;
  /** Asks the server who we are (once per page unless `force`). */
  refresh(force?: boolean): Promise<void>;
  register(credentials: Credentials): Promise<void>;
  logIn(credentials: Credentials): Promise<void>;
  logOut(): Promise<void>;
  /** Told by a room that the server ended the session (of `who`, when the page knew them). */
  signedOut(who?: string | null): void;
  /** After a sign-out: drops the dead cookie and goes on as a guest. */
  continueAsGuest(): Promise<void>;
}

/** Who is logged in, and the calls that change it. Errors reject as ApiError with a readable message. */
export function useSession(): UseSession {
  return {
    user: readonly(user) as Readonly<Ref<PublicUser | null>>,
    state: readonly(state),
    lastUser: readonly(lastUser),
    refresh(force = false) {
      if (force || loading === undefined) loading = load();
      return loading;
    },
    async register(credentials) {
      settle(await register(credentials));
      tabs?.postMessage('changed');
    },
    async logIn(credentials) {
      settle(await logIn(credentials));
      tabs?.postMessage('changed');
    },
    async logOut() {
      const leaving = user.value?.username ?? null;
      await logOut();
      // "You" belonged to that user: the next person at this browser starts with none.
      if (leaving !== null) forgetOwner(ownerKey(leaving));
      settle(null);
      tabs?.postMessage('logout');
    },
    signedOut,
    async continueAsGuest() {
      await logOut();
      settle(null);
    },
  };
}
