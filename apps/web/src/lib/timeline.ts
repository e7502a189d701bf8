import { REACTION_EMOJI, compareMessageIds, findMentions, type MessageState } from '@roomcast/protocol';
import { displayName, dayKey } from './format.js';
import { reactorName } from './message-state.js';

/** A message of the log: its current state, with our nonce when it is this page's own live copy. */
export type LogMessage = MessageState & { nonce?: string };

/** A message this page sent that the server has not confirmed (pending) or refused (failed). */
export interface LocalSend {
  nonce: string;
  text: string;
  ts: number;
  state: 'pending' | 'failed';
  /** Why it failed, in words for the reader. */
  error?: string;
  /** The message it answers. */
  replyTo?: string;
}

/** One emoji under a message: how many, who (as `reactions` names them), and whether I am one. */
export interface ReactionView {
  emoji: string;
  count: number;
  who: string[];
  mine: boolean;
}

/** The message a reply answers, as the reply quotes it. */
export interface ReplyView {
  id: string;
  /** Its author's display name and first line; undefined when it is not loaded (older page) or deleted. */
  author: string | undefined;
  line: string | undefined;
  deleted: boolean;
}

/** One row of the log as the view draws it. */
export interface TimelineItem {
  /** Stable across the pending -> confirmed change: the nonce for this page's sends. */
  key: string;
  id: string | undefined;
  user: string | null;
  guest: string | undefined;
  via: string | undefined;
  /** The text, '' for a deleted message (a tombstone). */
  text: string;
  ts: number;
  mine: boolean;
  deleted: boolean;
  /** When the text last changed. */
  edited: number | undefined;
  /** `@names` to highlight: the server's, or our own reading of a send it has not answered yet. */
  mentions: string[];
  /** The text mentions the reader (a signed-in user, or a named guest). */
  mentionsMe: boolean;
  reactions: ReactionView[];
  reply: ReplyView | undefined;
  /** The first message the reader has not read: the view draws a "New messages" divider above it. */
  unreadStart: boolean;
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
export function mergeMessages<T extends MessageState>(current: readonly T[], incoming: readonly T[]): T[] {
  if (incoming.length === 0) return current as T[];
  const last = current.at(-1);
  const sorted = incoming.every((message, index) => index === 0 || compareMessageIds(incoming[index - 1]!.id, message.id) < 0);
  // The common cases: a live message, or a resume, strictly after what we have.
  if (sorted && (last === undefined || compareMessageIds(last.id, incoming[0]!.id) < 0)) return [...current, ...incoming];
  const byId = new Map<string, T>();
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

/** The first line of a message, short enough to quote, without markdown's emphasis and code marks. */
export const firstLine = (text: string): string => {
  // Not `__`: it is more often part of a name (`__init__`) than bold.
  const line = text.split('\n', 1)[0]!.replace(/\*\*|~~|`/g, '').trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};

function reactionViews(message: MessageState, myName: string | undefined): ReactionView[] {
  const reactions = message.reactions ?? {};
  // The set's own order, so counts do not jump about as people react.
  const order = [...REACTION_EMOJI, ...Object.keys(reactions).filter((emoji) => !(REACTION_EMOJI as readonly string[]).includes(emoji))];
  return order
    .filter((emoji) => (reactions[emoji]?.length ?? 0) > 0)
    .map((emoji) => {
      const who = reactions[emoji]!;
      return { emoji, count: who.length, who, mine: myName !== undefined && who.includes(myName) };
    });
}

/**
 * The rows to draw: confirmed messages in room order, then this page's unconfirmed sends in the
 * order they were sent, each marked with where a day and an author's run begin, and (when the
 * reader's read position `readUpTo` is known) where the unread messages begin.
 */
export function buildTimeline(
  messages: readonly LogMessage[],
  sends: readonly LocalSend[],
  isOwn: (message: LogMessage) => boolean,
  me: string | null,
  myGuestName?: string,
  readUpTo?: string,
): TimelineItem[] {
  const myMention = me ?? myGuestName;
  const myName = me !== null ? me : myGuestName === undefined ? undefined : reactorName({ user: null, guest: myGuestName });
  const byId = new Map(messages.map((message) => [message.id, message]));
  const mentionsMe = (mentions: readonly string[]): boolean =>
    myMention !== undefined && mentions.some((name) => name.toLowerCase() === myMention.toLowerCase());
  const replyView = (id: string | undefined): ReplyView | undefined => {
    if (id === undefined) return undefined;
    const quoted = byId.get(id);
    if (quoted === undefined) return { id, author: undefined, line: undefined, deleted: false };
    if (quoted.deleted) return { id, author: displayName(quoted), line: undefined, deleted: true };
    return { id, author: isOwn(quoted) ? 'You' : displayName(quoted), line: firstLine(quoted.message ?? ''), deleted: false };
  };
  let dividerPlaced = readUpTo === undefined;
  const rows: Array<Omit<TimelineItem, 'startsDay' | 'startsGroup'>> = [
    ...messages.map((message) => {
      const mine = isOwn(message);
      const mentions = message.mentions ?? [];
      const unreadStart = !dividerPlaced && !mine && compareMessageIds(message.id, readUpTo!) > 0;
      if (unreadStart) dividerPlaced = true;
      return {
        key: message.nonce ?? message.id,
        id: message.id,
        user: message.user,
        guest: message.guest,
        via: message.via,
        text: message.message ?? '',
        ts: message.ts,
        mine,
        deleted: message.deleted === true,
        edited: message.edited,
        mentions,
        mentionsMe: !mine && mentionsMe(mentions),
        reactions: reactionViews(message, myName),
        reply: replyView(message.replyTo),
        unreadStart,
        state: 'confirmed' as const,
        nonce: message.nonce,
        error: undefined,
      };
    }),
    ...sends.map((send) => ({
      key: send.nonce,
      id: undefined,
      user: me,
      guest: me === null ? myGuestName : undefined,
      via: undefined,
      text: send.text,
      ts: send.ts,
      mine: true,
      deleted: false,
      edited: undefined,
      mentions: findMentions(send.text),
      mentionsMe: false,
      reactions: [],
      reply: replyView(send.replyTo),
      unreadStart: false,
      state: send.state,
      nonce: send.nonce,
      error: send.error,
    })),
  ];
  return rows.map((row, index) => {
    const previous = rows[index - 1];
    const startsDay = previous === undefined || dayKey(previous.ts) !== dayKey(row.ts);
    const startsGroup =
      startsDay || previous === undefined || row.unreadStart || row.reply !== undefined || !sameAuthor(previous, row) || row.ts - previous.ts > GROUP_GAP_MS;
    return { ...row, startsDay, startsGroup };
  });
}
