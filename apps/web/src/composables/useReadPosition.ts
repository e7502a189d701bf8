import { compareMessageIds } from '@roomcast/protocol';
import { getCurrentScope, onScopeDispose, shallowRef, watch, type Ref } from 'vue';
import { fetchMyRooms, markRead } from '../lib/api.js';
import type { LogMessage } from '../lib/timeline.js';

export interface UseReadPositionOptions {
  /** Wait this long after the last new message before telling the server. Default 800 ms. */
  debounceMs?: number;
}

/** A read position before every message. */
const NEVER_READ = '0-0';

const isHidden = (): boolean => typeof document !== 'undefined' && document.visibilityState === 'hidden';

/**
 * Where a signed-in reader has read a room up to, kept on the server (so every device and node
 * agrees): the position at arrival places the "New messages" divider, and while the page is
 * visible the newest message shown is reported as read (debounced). While the page is hidden,
 * messages from others are counted for the tab title, and the divider moves to where they start.
 */
export function useReadPosition(room: string, messages: Readonly<Ref<readonly LogMessage[]>>, signedIn: Readonly<Ref<boolean>>, options: UseReadPositionOptions = {}) {
  const debounceMs = options.debounceMs ?? 800;
  /** The divider goes above the first message of someone else after this ID. */
  const readUpTo = shallowRef<string | undefined>();
  /** Messages from others that arrived while the page was hidden. */
  const hiddenCount = shallowRef(0);
  /** The server's position is known (or could not be had): only then may we move it. */
  let loaded = false;
  let reported: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  async function load(): Promise<void> {
    loaded = false;
    try {
      const mine = (await fetchMyRooms()).rooms.find((item) => item.room === room);
      // A room of ours never read: everything of the others in it is new.
      readUpTo.value = mine === undefined ? undefined : (mine.readId ?? NEVER_READ);
      reported = mine?.readId;
    } catch {
      // No position: no divider this time; reads are still reported.
    }
    loaded = true;
    schedule();
  }

  const newest = (): string | undefined => messages.value.at(-1)?.id;

  function schedule(): void {
    clearTimeout(timer);
    timer = undefined;
    const id = newest();
    if (!loaded || !signedIn.value || isHidden() || id === undefined) return;
    if (reported !== undefined && compareMessageIds(id, reported) <= 0) return;
    timer = setTimeout(() => report(id), debounceMs);
  }

  function report(id: string): void {
    timer = undefined;
    reported = id;
    markRead(room, id).catch(() => {
      // Told again with the next message; a lost read position is only a stale count.
      reported = undefined;
    });
  }

  /** A live message from someone else arrived. */
  function noteIncoming(): void {
    if (isHidden()) hiddenCount.value += 1;
  }

  function onVisibility(): void {
    if (isHidden()) {
      // Back later: what arrives from now on is below the divider.
      readUpTo.value = newest() ?? readUpTo.value;
      return;
    }
    hiddenCount.value = 0;
    schedule();
  }

  document.addEventListener('visibilitychange', onVisibility);
  watch(messages, schedule);
  watch(signedIn, (now) => void (now && load()), { immediate: true });

  if (getCurrentScope()) {
    onScopeDispose(() => {
      // Leaving the room within the debounce: what was on screen was read all the same.
      const id = newest();
      const waiting = timer !== undefined;
      clearTimeout(timer);
      if (waiting && id !== undefined) report(id);
      document.removeEventListener('visibilitychange', onVisibility);
    });
  }

  return { readUpTo, hiddenCount, noteIncoming };
}
