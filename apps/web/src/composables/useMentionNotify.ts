import type { ChatMessage } from '@roomcast/protocol';
import { shallowRef } from 'vue';
import { displayName } from '../lib/format.js';
import { storage } from '../lib/identity.js';
import { firstLine } from '../lib/timeline.js';

const SETTING = 'roomcast:notify-mentions';
const notifications = (): typeof Notification | undefined => (typeof Notification === 'undefined' ? undefined : Notification);

/** Whether `message` mentions `name` (the server's `mentions`, compared as usernames are: without case). */
export const mentions = (message: Pick<ChatMessage, 'mentions'>, name: string | null | undefined): boolean =>
  name != null && (message.mentions ?? []).some((item) => item.toLowerCase() === name.toLowerCase());

/**
 * The "Notify me when mentioned" setting (kept in this browser) and the notification it raises:
 * only for a message that mentions the reader, only while the tab is hidden, only with permission.
 */
export function useMentionNotify(room: string) {
  const enabled = shallowRef(storage()?.getItem(SETTING) === 'on' && notifications()?.permission === 'granted');
  /** Why it could not be turned on. */
  const refusal = shallowRef<string | undefined>();

  async function set(on: boolean): Promise<void> {
    refusal.value = undefined;
    const api = notifications();
    if (on && api === undefined) {
      refusal.value = 'This browser cannot show notifications.';
      return;
    }
    if (on && api!.permission !== 'granted' && (await api!.requestPermission()) !== 'granted') {
      refusal.value = 'Notifications are blocked for this site in your browser.';
      enabled.value = false;
      return;
    }
    enabled.value = on;
    try {
      storage()?.setItem(SETTING, on ? 'on' : 'off');
    } catch {
      // Kept for this page only.
    }
  }

  /** A live message from someone else: raise a notification if it is for the reader and nobody is looking. */
  function consider(message: ChatMessage, me: string | null | undefined): void {
    const api = notifications();
    if (!enabled.value || api === undefined || api.permission !== 'granted' || document.visibilityState !== 'hidden') return;
    if (!mentions(message, me)) return;
    new api(`${displayName(message)} mentioned you in #${room}`, { body: firstLine(message.message), tag: message.id });
  }

  return { enabled, refusal, set, consider };
}
