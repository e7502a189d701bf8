import type { MyRoom } from '@roomcast/protocol';
import { computed, getCurrentScope, onScopeDispose, shallowRef, watch, type Ref } from 'vue';
import { fetchMyRooms } from '../lib/api.js';

export interface UseMyRoomsOptions {
  /** Refresh this often while the page is visible. Default 4000 ms. */
  visibleMs?: number;
  /** And this often while it is hidden (the tab title still counts). Default 15000 ms. */
  hiddenMs?: number;
}

/**
 * The signed-in user's rooms (`GET /me/rooms`) with unread and mention counts, kept fresh by
 * polling: reads on another device or node show here within one interval.
 */
export function useMyRooms(signedIn: Readonly<Ref<boolean>>, options: UseMyRoomsOptions = {}) {
  const rooms = shallowRef<MyRoom[] | undefined>();
  const error = shallowRef<string | undefined>();
  const totalUnread = computed(() => (rooms.value ?? []).reduce((sum, room) => sum + room.unread, 0));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  async function refresh(): Promise<void> {
    clearTimeout(timer);
    timer = undefined;
    if (stopped || !signedIn.value) {
      rooms.value = undefined;
      return;
    }
    try {
      const list = await fetchMyRooms();
      // Unread first, then mentions, then by name: what needs the reader comes to the top.
      rooms.value = [...list.rooms].sort((a, b) => b.mentions - a.mentions || b.unread - a.unread || a.room.localeCompare(b.room));
      error.value = undefined;
    } catch (failure) {
      error.value = `Cannot load your rooms: ${failure instanceof Error ? failure.message : String(failure)}`;
    }
    if (stopped) return;
    const hidden = document.visibilityState === 'hidden';
    timer = setTimeout(() => void refresh(), hidden ? (options.hiddenMs ?? 15_000) : (options.visibleMs ?? 4000));
  }

  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') void refresh();
  };
  document.addEventListener('visibilitychange', onVisibility);
  watch(signedIn, () => void refresh(), { immediate: true });

  if (getCurrentScope()) {
    onScopeDispose(() => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    });
  }
  return { rooms, error, totalUnread, refresh };
}
