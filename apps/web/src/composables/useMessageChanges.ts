import { SendRefused, type RoomClient } from '@roomcast/client';
import type { ReactionEmoji } from '@roomcast/protocol';
import { shallowRef } from 'vue';

/** Why a send or a change did not go through, in words for the reader. */
export const failureText = (error: unknown): string =>
  error instanceof SendRefused ? error.frame.reason : 'Not sent: the connection was lost.';

/**
 * Edits, deletions and reactions sent on the room's current client. Nothing is applied here: a
 * change shows when the server's copy comes back as an event, as everyone else's does; a refusal
 * (not yours, no longer kept, too long) is said in `changeError` until the next change.
 */
export function useMessageChanges(currentClient: () => RoomClient | undefined) {
  const changeError = shallowRef<string | undefined>();

  function change(make: (current: RoomClient) => { confirmed: Promise<unknown> }): void {
    const current = currentClient();
    if (current === undefined || current.status === 'closed') {
      changeError.value = 'Not connected: try again when the connection is back.';
      return;
    }
    changeError.value = undefined;
    make(current).confirmed.catch((error: unknown) => {
      // A replaced client's refusals are about a socket nobody looks at any more.
      if (current === currentClient()) changeError.value = failureText(error);
    });
  }

  return {
    changeError,
    edit: (id: string, text: string): void => change((current) => current.edit(id, text)),
    remove: (id: string): void => change((current) => current.delete(id)),
    react: (id: string, emoji: ReactionEmoji): void => change((current) => current.react(id, emoji)),
  };
}
