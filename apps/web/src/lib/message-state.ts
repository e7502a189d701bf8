import type { ChatDeleteFrame, ChatEditFrame, MessageState, ReactionFrame } from '@roomcast/protocol';

/** A change to a message that is already in the log: an edit, a deletion or a reaction. */
export type MessageChange = ChatEditFrame | ChatDeleteFrame | ReactionFrame;

/** Who did something, as frames name them. */
export interface Actor {
  user: string | null;
  guest?: string | undefined;
  via?: string | undefined;
}

/**
 * How `reactions` name someone (INTERFACE.md): `alice`, `guest:NAME` for a named guest,
 * `api:NAME` for a service; an anonymous guest has no name ('').
 */
export function reactorName({ user, guest, via }: Actor): string {
  if (user !== null) return via === undefined ? user : `${via}:${user}`;
  return guest === undefined ? '' : `guest:${guest}`;
}

/**
 * `change` applied to the message it targets, or `messages` itself when nothing changes (the
 * target is not loaded: an older page brings it in its current state). Applying a change twice
 * is harmless: a resume with `since` replays changes the `GET` page already reflected, and a
 * reaction carries where it ends (`on`), not a toggle.
 */
export function applyChange<T extends MessageState>(messages: readonly T[], change: MessageChange): readonly T[] {
  let index = -1;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    if (messages[i]!.id === change.target) {
      index = i;
      break;
    }
  }
  if (index < 0) return messages;
  const current = messages[index]!;
  const next = changed(current, change);
  if (next === current) return messages;
  const copy = messages.slice();
  copy[index] = next;
  return copy;
}

function changed<T extends MessageState>(message: T, change: MessageChange): T {
  // A deleted message stays deleted: a replayed edit must not bring its text back.
  if (message.deleted) return message;
  if (change.type === 'chat.delete') {
    const { message: _text, mentions: _mentions, reactions: _reactions, edited: _edited, ...rest } = message;
    return { ...rest, deleted: true } as T;
  }
  if (change.type === 'chat.edit') {
    // The page already shows a later edit, or this one: a replay of it changes nothing.
    if (message.edited !== undefined && (message.edited > change.ts || (message.edited === change.ts && message.message === change.message))) return message;
    const { mentions: _old, ...rest } = message;
    return { ...rest, message: change.message, edited: change.ts, ...(change.mentions === undefined ? {} : { mentions: change.mentions }) } as T;
  }
  const name = reactorName(change);
  const who = message.reactions?.[change.emoji] ?? [];
  const has = who.includes(name);
  if (has === change.on) return message;
  const nextWho = change.on ? [...who, name] : who.filter((item) => item !== name);
  const reactions = { ...message.reactions, [change.emoji]: nextWho };
  if (nextWho.length === 0) delete reactions[change.emoji];
  const { reactions: _old, ...rest } = message;
  return (Object.keys(reactions).length === 0 ? rest : { ...rest, reactions }) as T;
}
