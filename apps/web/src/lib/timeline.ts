import { compareMessageIds, type ChatMessage } from '@roomcast/protocol';
import { dayKey } from './format.js';

/** A message this page sent that the server has not confirmed (pending) or refused (failed). */
export interface LocalSend {
  nonce: string;
  text: string;
  ts: number;
  state: 'pending' | 'failed';
  /** Why it failed, in words for the reader. */
  error?: string;
}

/** One row of the log as the view draws it. */
export interface TimelineItem {
  /** Stable across the pending -> confirmed change: the nonce for this page's sends. */
  key: string;
  id: string | undefined;
  user: string | null;
  guest: string | undefined;
  via: string | undefined;
  text: string;
  ts: number;
  mine: boolean;
  state: 'confirmed' | 'pending' | 'failed';
  nonce: string | undefined;
  error: string | undefined;
  /** What a pending send waits for, when it is not simply the server's answer. */
  note?: string;
  /** First message of its day: the view draws a day divider above it. */
  startsDay: boolean;
  /** First of a run by one author: the view draws the author and avatar. */
  startsGroup: boolean;
}

/** A run of messages by one author shows one header while the gaps stay under this. */
const GROUP_GAP_MS = 5 * 60 * 1000;

/**
 * The room's messages with `incoming` added: ordered by ID, each ID once. Resumes, reloads and
 * older pages all come through here, so overlap between them never shows as a duplicate.
 */
export function mergeMessages(current: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  if (incoming.length === 0) return current as ChatMessage[];
  const last = current.at(-1);
  const sorted = incoming.every((message, index) => index === 0 || compareMessageIds(incoming[index - 1]!.id, message.id) < 0);
  // The common cases: a live message, or a resume, strictly after what we have.
  if (sorted && (last === undefined || compareMessageIds(last.id, incoming[0]!.id) < 0)) return [...current, ...incoming];
  const byId = new Map<string, ChatMessage>();
  for (const message of current) byId.set(message.id, message);
  for (const message of incoming) if (!byId.has(message.id)) byId.set(message.id, message);
  return [...byId.values()].sort((a, b) => compareMessageIds(a.id, b.id));
}

interface Author {
  user: string | null;
  guest: string | undefined;
  via: string | undefined;
  mine: boolean;
}

/** Unnamed guests are all `null`: two such messages are one author only when both are ours. */
const sameAuthor = (a: Author, b: Author): boolean =>
  a.mine === b.mine && a.user === b.user && a.guest === b.guest && a.via === b.via && (a.user !== null || a.guest !== undefined || a.mine);

/**
 * The rows to draw: confirmed messages in room order, then this page's unconfirmed sends in the
 * order they were sent, each marked with where a day and an author's run begin.
 */
export function buildTimeline(
  messages: readonly ChatMessage[],
  sends: readonly LocalSend[],
  isOwn: (message: ChatMessage) => boolean,
  me: string | null,
  myGuestName?: string,
): TimelineItem[] {
  const rows: Array<Omit<TimelineItem, 'startsDay' | 'startsGroup'>> = [
    ...messages.map((message) => ({
      key: message.nonce ?? message.id,
      id: message.id,
      user: message.user,
      guest: message.guest,
      via: message.via,
      text: message.message,
      ts: message.ts,
      mine: isOwn(message),
      state: 'confirmed' as const,
      nonce: message.nonce,
      error: undefined,
    })),
    ...sends.map((send) => ({
      key: send.nonce,
      id: undefined,
      user: me,
      guest: me === null ? myGuestName : undefined,
      via: undefined,
      text: send.text,
      ts: send.ts,
      mine: true,
      state: send.state,
      nonce: send.nonce,
      error: send.error,
    })),
  ];
  return rows.map((row, index) => {
    const previous = rows[index - 1];
    const startsDay = previous === undefined || dayKey(previous.ts) !== dayKey(row.ts);
    const startsGroup = startsDay || previous === undefined || !sameAuthor(previous, row) || row.ts - previous.ts > GROUP_GAP_MS;
    return { ...row, startsDay, startsGroup };
  });
}
