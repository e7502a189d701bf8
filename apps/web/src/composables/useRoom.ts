import { RoomClient, RoomClosed, backoffDelay, newClientId, type RoomStatus } from '@roomcast/client';
import { CLOSE, MAX_MESSAGE_LENGTH, compareMessageIds, type ChatMessage, type MessageState, type PresenceFrame } from '@roomcast/protocol';
import { computed, getCurrentScope, onScopeDispose, shallowRef, type Ref } from 'vue';
import { fetchMessages } from '../lib/api.js';
import { displayName } from '../lib/format.js';
import { ApiError } from '../lib/http.js';
import { ownerKey } from '../lib/identity.js';
import { applyChange, type MessageChange } from '../lib/message-state.js';
import { failureText, useMessageChanges } from './useMessageChanges.js';
import { OwnMessages } from '../lib/own-messages.js';
import { mergeMessages, type LocalSend, type LogMessage } from '../lib/timeline.js';
import { TypingTracker } from '../lib/typing.js';

/**
 * What the connection badge says. `offline`: closed for good, or the browser has no network.
 * `signed-out`: the server ended the session; nothing is sent until the person chooses.
 */
export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'offline' | 'signed-out';

/** Why the room cannot be shown at all (as opposed to a passing network problem). */
/**
 * Why the room is closed to this page, for good until something changes: login required, a bad
 * name, a private room (`forbidden`), a ban, or a close 4003 with its reason (`removed`, `kicked`).
 */
export type RoomBlock = 'login_required' | 'invalid_room' | 'forbidden' | 'banned' | 'removed' | 'kicked' | undefined;
const ROOM_REFUSALS = new Set(['forbidden', 'banned', 'removed', 'kicked']);

export interface UseRoomOptions {
  /** Server base URL. Default: this page's origin (the API serves the SPA, or Vite proxies it). */
  url?: string;
  /** Messages per history page. Default 50. */
  pageSize?: number;
  /** A typing notice shows this long unless renewed. Default 4000 ms. */
  typingTimeoutMs?: number;
  /** Whose "You" marks to keep (`ownerKey`), asked at every connect. Default: this browser's guest. */
  owner?: () => string;
  /** More socket query parameters (a guest's `name`), asked at every connect. */
  query?: () => Record<string, string>;
  /** Silence after which the client pings, and twice which it gives the link up. Default 3000 ms. */
  heartbeatMs?: number;
  /** Told of every new message from someone else, live (not history): mentions, unread counts. */
  onIncoming?: (message: ChatMessage) => void;
}

export interface Presence {
  users: string[];
  guests: string[];
  anonymous: number;
  /** In a large room, the number of distinct names present (users and named guests); `users` and `guests` are then empty. */
  count?: number;
}

/** An ended client whose unconfirmed sends should wait for the next connection, not fail. */
const keepsSendsPending = (error: unknown): boolean =>
  error instanceof RoomClosed && (error.closeCode === CLOSE.signedOut || error.refusal !== undefined);

/** Everyone present: signed-in users (listed, or in a large room counted with named guests) and guest connections. */
export const presentCount = (presence: Presence): number => (presence.count ?? presence.users.length) + presence.anonymous;

/**
 * A room as the view needs it: history then live messages with no gap, this page's sends from
 * pending to confirmed or failed, who is here and who is typing, and the connection's state.
 * A thin layer over RoomClient; everything stops when the calling scope is disposed.
 */
export function useRoom(room: string, options: UseRoomOptions = {}) {
  const url = options.url ?? globalThis.location.origin;
  const pageSize = options.pageSize ?? 50;
  const typingTimeoutMs = options.typingTimeoutMs ?? 4000;

  /** Messages in their current state: edits, deletions (tombstones) and reactions applied. */
  const messages = shallowRef<readonly LogMessage[]>([]);
  const sends = shallowRef<LocalSend[]>([]);
  const status = shallowRef<RoomStatus>('connecting');
  const presence = shallowRef<Presence>({ users: [], guests: [], anonymous: 0 });
  const typing = shallowRef<string[]>([]);
  /** The first page has arrived and the log can be drawn. */
  const ready = shallowRef(false);
  const hasMore = shallowRef(false);
  const loadingOlder = shallowRef(false);
  const olderError = shallowRef<string | undefined>();
  /** Why loading the room failed the last time (it keeps retrying). */
  const loadError = shallowRef<string | undefined>();
  const blocked = shallowRef<RoomBlock>();
  /** The server kept fewer messages than we missed while away. */
  const gap = shallowRef(false);
  /** The newest message from someone else, for an `aria-live` region. */
  const announcement = shallowRef('');
  /** The server ended this socket's session (401 session_expired, close 4001): sends wait. */
  const signedOut = shallowRef(false);
  /** Why the server refused the guest name asked for. */
  const nameRefusal = shallowRef<string | undefined>();

  const owner = options.owner ?? (() => ownerKey(null));
  let own = new OwnMessages(room, owner());
  /** One ID for every RoomClient of this view: the server recognises our resends across reconnects. */
  const clientId = newClientId();
  let client: RoomClient | undefined;
  let disposed = false;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  const changes = useMessageChanges(() => client);
  /** The reason of the socket's last close (4003 says why: removed, kicked, banned). */
  let closeReason = '';
  const typists = new TypingTracker(typingTimeoutMs, (names) => {
    typing.value = names;
  });

  // ------------------------------------------------------------ sends

  const updateSend = (nonce: string, change: Partial<LocalSend> | undefined): void => {
    sends.value = change === undefined
      ? sends.value.filter((send) => send.nonce !== nonce)
      : sends.value.map((send) => (send.nonce === nonce ? { ...send, ...change } : send));
  };

  /** Follows one send on `current` until the server confirms or refuses it. */
  function track(current: RoomClient, text: string, nonce?: string, replyTo?: string): string {
    const sent = current.send(text, nonce, replyTo === undefined ? {} : { replyTo });
    sent.confirmed.then(
      (stored) => {
        // Usually the server's copy came as a message event and did this already. After a
        // reconnect the copy may come back only as a replay without its nonce, and the resend's
        // confirmation as a duplicate the client does not emit: this catches that case.
        if (current !== client || !sends.value.some((item) => item.nonce === sent.nonce)) return;
        own.add(stored.id);
        messages.value = mergeMessages(messages.value, [stored]);
        updateSend(sent.nonce, undefined);
      },
      (error: unknown) => {
        // A replaced client rejects what it still held; the new one has taken those sends over.
        // Sends of a session that ended wait for the next connection (signed in again, or a guest).
        if (current === client && !keepsSendsPending(error)) updateSend(sent.nonce, { state: 'failed', error: failureText(error) });
      },
    );
    return sent.nonce;
  }

  /** Posts `text` (answering `replyTo`); it shows at once as pending and turns confirmed when the server's copy arrives. */
  function send(text: string, replyTo?: string): boolean {
    if (text.trim() === '' || text.length > MAX_MESSAGE_LENGTH) return false;
    const current = client;
    if (signedOut.value || nameRefusal.value !== undefined) {
      // Kept, pending, until the person chooses who to be; then it goes out on the new socket.
      sends.value = [...sends.value, { nonce: `wait-${Date.now()}-${sends.value.length}`, text, ts: Date.now(), state: 'pending', ...answering(replyTo) }];
      return true;
    }
    if (current === undefined || current.status === 'closed') {
      const nonce = `unsent-${Date.now()}-${sends.value.length}`;
      sends.value = [...sends.value, { nonce, text, ts: Date.now(), state: 'failed', error: 'Not sent: not connected.', ...answering(replyTo) }];
      return true;
    }
    const nonce = track(current, text, undefined, replyTo);
    sends.value = [...sends.value, { nonce, text, ts: Date.now(), state: 'pending', ...answering(replyTo) }];
    return true;
  }

  const answering = (replyTo: string | undefined): { replyTo?: string } => (replyTo === undefined ? {} : { replyTo });

  /**
   * Sends a failed message again under the SAME nonce: if the first try was stored after all
   * (its outcome was unknown), the server answers with that message instead of storing it twice.
   */
  function retry(nonce: string): void {
    const failed = sends.value.find((item) => item.nonce === nonce && item.state === 'failed');
    const current = client;
    if (!failed || current === undefined || current.status === 'closed') return;
    sends.value = sends.value.map((item) => (item.nonce === nonce ? { nonce, text: item.text, ts: item.ts, state: 'pending', ...answering(item.replyTo) } : item));
    track(current, failed.text, nonce, failed.replyTo);
  }

  function discard(nonce: string): void {
    updateSend(nonce, undefined);
  }

  // ------------------------------------------------------------ the socket

  function receive(message: ChatMessage): void {
    if (message.nonce !== undefined && sends.value.some((item) => item.nonce === message.nonce)) {
      own.add(message.id);
      updateSend(message.nonce, undefined);
    }
    typists.stopped(displayName(message));
    const known = messages.value.some((item) => item.id === message.id);
    messages.value = mergeMessages(messages.value, [message]);
    if (!own.has(message.id) && !known) {
      announcement.value = `${displayName(message)}: ${message.message.slice(0, 200)}`;
      options.onIncoming?.(message);
    }
  }

  function applied(frame: MessageChange): void {
    messages.value = applyChange(messages.value, frame);
  }

  /** Opens the room's socket, resuming after `since` so nothing between page and socket is lost. */
  function connect(since: string): void {
    const previous = client;
    const current = new RoomClient({ url, room, since, clientId, query: options.query, heartbeatMs: options.heartbeatMs ?? 3000 });
    client = current;
    own = new OwnMessages(room, owner());
    previous?.close();
    // Events from a client we replaced or closed are ignored: `client !== current`.
    current.on('message', (message) => current === client && receive(message));
    current.on('edit', (frame) => current === client && applied(frame));
    current.on('delete', (frame) => current === client && applied(frame));
    current.on('reaction', (frame) => current === client && applied(frame));
    current.on('presence', (frame: PresenceFrame) => {
      if (current === client) {
        presence.value = { users: frame.users, guests: frame.guests ?? [], anonymous: frame.anonymous, ...(frame.count === undefined ? {} : { count: frame.count }) };
      }
    });
    current.on('typing', (frame) => current === client && typists.saw(displayName(frame)));
    current.on('recovered', (frame) => {
      if (current === client && !frame.complete) gap.value = true;
    });
    current.on('close', ({ reason }) => {
      if (current === client) closeReason = reason;
    });
    current.on('status', (next) => {
      if (current !== client) return;
      status.value = next;
      if (next !== 'closed') return;
      noteEnding(current.ended);
      // Closed for good: who was here and typing is no longer known.
      presence.value = { users: [], guests: [], anonymous: 0 };
      typists.dispose();
      typing.value = [];
    });
    status.value = current.status;
    current.connect();
    // Sends the old client still held go out on the new one, under the same nonce.
    for (const item of sends.value) if (item.state === 'pending') track(current, item.text, item.nonce, item.replyTo);
  }

  /** Why the server ended the client, in the terms the view shows. */
  function noteEnding(ended: RoomClosed | undefined): void {
    const code = ended?.refusal?.code;
    if (ended?.closeCode === CLOSE.signedOut || code === 'session_expired') signedOut.value = true;
    else if (code === 'username_taken' || code === 'invalid_username') nameRefusal.value = ended!.refusal!.reason;
    else if (code === 'login_required') blocked.value = 'login_required';
    else if (code !== undefined && ROOM_REFUSALS.has(code)) blocked.value = code as RoomBlock;
    else if (ended?.closeCode === CLOSE.forbidden) blocked.value = ROOM_REFUSALS.has(closeReason) ? (closeReason as RoomBlock) : 'forbidden';
  }

  /** Reconnects now, resuming after the newest message we have (a refused socket, a network back). */
  function reconnect(): void {
    if (disposed || !ready.value) return;
    connect(client?.lastId ?? messages.value.at(-1)?.id ?? EMPTY_ROOM);
  }

  /** Connects again as whoever we are now (signed in again, a guest, a new guest name); waiting sends go out. */
  function restart(): void {
    signedOut.value = false;
    nameRefusal.value = undefined;
    blocked.value = undefined;
    // A room that refused even its history (private, banned) loads again from the start.
    if (!ready.value && retryTimer === undefined) void start();
    else reconnect();
  }

  // The browser knows when the network is back long before a backoff timer would.
  const online = shallowRef(globalThis.navigator?.onLine ?? true);
  const onOnline = (): void => {
    online.value = true;
    if (status.value === 'reconnecting') reconnect();
  };
  const onOffline = (): void => {
    online.value = false;
    // No need to wait for the heartbeat: the socket is gone with the network.
    client?.linkLost();
  };
  globalThis.addEventListener?.('online', onOnline);
  globalThis.addEventListener?.('offline', onOffline);

  const connection = computed<ConnectionState>(() => {
    if (signedOut.value) return 'signed-out';
    if (status.value === 'open') return 'connected';
    if (status.value === 'closed' || !online.value) return 'offline';
    return status.value;
  });

  // ------------------------------------------------------------ history

  async function start(tries = 0): Promise<void> {
    retryTimer = undefined;
    try {
      const page = await fetchMessages(room, { limit: pageSize });
      if (disposed) return;
      messages.value = mergeMessages(page.messages, messages.value);
      hasMore.value = page.hasMore;
      loadError.value = undefined;
      ready.value = true;
      connect(page.messages.at(-1)?.id ?? EMPTY_ROOM);
    } catch (error) {
      if (disposed) return;
      if (error instanceof ApiError && (error.code === 'login_required' || error.code === 'invalid_room' || ROOM_REFUSALS.has(error.code))) {
        blocked.value = error.code as RoomBlock;
        status.value = 'closed';
        return;
      }
      loadError.value = error instanceof Error ? error.message : String(error);
      status.value = 'reconnecting';
      retryTimer = setTimeout(() => void start(tries + 1), backoffDelay(tries, { baseMs: 500 }));
    }
  }

  /** Loads the page before the oldest message we have. */
  async function loadOlder(): Promise<void> {
    const oldest = messages.value[0];
    if (loadingOlder.value || !hasMore.value || oldest === undefined) return;
    loadingOlder.value = true;
    olderError.value = undefined;
    try {
      const page = await fetchMessages(room, { before: oldest.id, limit: pageSize });
      if (disposed) return;
      messages.value = mergeMessages(messages.value, page.messages);
      hasMore.value = page.hasMore;
    } catch (error) {
      olderError.value = error instanceof Error ? error.message : String(error);
    } finally {
      loadingOlder.value = false;
    }
  }

  /**
   * Loads older pages until the message `id` is in the log (a reply's quote was clicked), or the
   * history has no more. Resolves true when it is there.
   */
  async function loadUntil(id: string): Promise<boolean> {
    for (;;) {
      if (messages.value.some((item) => item.id === id)) return true;
      const oldest = messages.value[0];
      if (disposed || !hasMore.value || oldest === undefined || compareMessageIds(oldest.id, id) < 0) return false;
      await loadOlder();
      if (olderError.value !== undefined) return false;
    }
  }

  function notifyTyping(): void {
    if (client?.status === 'open') client.typing();
  }

  function isOwn(message: MessageState, me: string | null): boolean {
    return own.has(message.id) || (me !== null && message.user === me);
  }

  function dispose(): void {
    disposed = true;
    globalThis.removeEventListener?.('online', onOnline);
    globalThis.removeEventListener?.('offline', onOffline);
    clearTimeout(retryTimer);
    typists.dispose();
    const current = client;
    client = undefined;
    current?.close();
  }

  if (getCurrentScope()) onScopeDispose(dispose);
  void start();

  return {
    room,
    messages: expose(messages),
    sends: expose(sends),
    status: expose(status),
    connection,
    presence: expose(presence),
    typing: expose(typing),
    ready: expose(ready),
    hasMore: expose(hasMore),
    loadingOlder: expose(loadingOlder),
    olderError: expose(olderError),
    loadError: expose(loadError),
    blocked: expose(blocked),
    gap: expose(gap),
    announcement: expose(announcement),
    signedOut: expose(signedOut),
    nameRefusal: expose(nameRefusal),
    changeError: expose(changes.changeError),
    restart,
    send,
    edit: changes.edit,
    remove: changes.remove,
    react: changes.react,
    loadUntil,
    retry,
    discard,
    loadOlder,
    notifyTyping,
    reconnect,
    isOwn,
    dispose,
  };
}

/** State the view reads but only the composable writes. */
const expose = <T>(ref: Ref<T>): Readonly<Ref<T>> => ref;

/**
 * `since` for a room that had no messages when we loaded it: every message is after it, so one
 * posted between the empty page and the socket still arrives.
 */
const EMPTY_ROOM = '0-0';

export type UseRoom = ReturnType<typeof useRoom>;
