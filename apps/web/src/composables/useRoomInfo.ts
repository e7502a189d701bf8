import type { Role, RoomInfo } from '@roomcast/protocol';
import { computed, shallowRef, watch, type Ref } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import { ApiError } from '../lib/http.js';
import { fetchRoom, joinRoom } from '../lib/rooms-api.js';

/**
 * A room's owner, settings and members (`GET /rooms/ROOM`), and my role in it. `unclaimed` when
 * nobody owns the room (it is open to all); `hidden` when the room will not tell us (private, banned).
 */
export function useRoomInfo(room: string, me: Ref<string | null>) {
  const info = shallowRef<RoomInfo | undefined>();
  const state = shallowRef<'loading' | 'claimed' | 'unclaimed' | 'hidden' | 'error'>('loading');
  const error = shallowRef<string | undefined>();

  async function refresh(): Promise<void> {
    try {
      info.value = await fetchRoom(room);
      state.value = 'claimed';
      error.value = undefined;
    } catch (failure) {
      info.value = undefined;
      if (failure instanceof ApiError && failure.code === 'not_found') state.value = 'unclaimed';
      else if (failure instanceof ApiError && (failure.code === 'forbidden' || failure.code === 'banned')) state.value = 'hidden';
      else {
        state.value = 'error';
        error.value = failure instanceof Error ? failure.message : String(failure);
      }
    }
  }

  const role = computed<Role | undefined>(() => {
    const name = me.value?.toLowerCase();
    return name === undefined ? undefined : info.value?.members.find((member) => member.username.toLowerCase() === name)?.role;
  });
  const moderates = computed(() => role.value === 'owner' || role.value === 'moderator');

  void refresh();
  return { info, state, error, role, moderates, refresh };
}

export type UseRoomInfo = ReturnType<typeof useRoomInfo>;

/**
 * An invite link (`/chat/ROOM/?invite=TOKEN`): once the reader is signed in, joins the room with
 * the token, drops it from the address and calls `joined`. Answers why it did not work, if not.
 */
export function useInviteLink(room: string, me: Ref<string | null>, joined: () => void): Readonly<Ref<string | undefined>> {
  const route = useRoute();
  const router = useRouter();
  const problem = shallowRef<string | undefined>();
  watch(
    [() => route.query.invite, me],
    async ([token, who]) => {
      if (typeof token !== 'string' || who === null) return;
      try {
        await joinRoom(room, token);
        await router.replace({ query: {} });
        problem.value = undefined;
        joined();
      } catch (failure) {
        problem.value = `The invite did not work: ${failure instanceof Error ? failure.message : String(failure)}`;
      }
    },
    { immediate: true },
  );
  return problem;
}
