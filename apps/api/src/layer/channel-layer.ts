/**
 * The channel layer, in Django Channels' words: every connection is a channel with a unique
 * name; channels join groups; an event sent to a group reaches every channel in it, on every
 * node. Only events travel here, never storage: the room history decides message order.
 */

/**
 * What travels through a group. `frame` is the serialized server frame, made once for all
 * recipients; the rest tells each recipient how to treat its own copy.
 */
export interface GroupEvent {
  /** Dispatch key, like Django's `type`: `chat.message`, `chat.edit`, `chat.delete`, `reaction`, `presence`, `typing`. */
  type: string;
  /** Serialized frame, identical for every recipient. */
  frame: string;
  /**
   * The entry's ID in the room's log for `chat.message` events and changes to messages
   * (`chat.edit`, `chat.delete`, `reaction`), so a resuming consumer can drop what it already sent.
   */
  id?: string;
  /** Channel name of the connection the event came from. */
  sender?: string;
  /** The sender's nonce, echoed only in the sender's own copy. */
  nonce?: string;
  /** When true the sender's own channel does not receive the event (typing). */
  skipSender?: boolean;
}

/** A local receiver: one connection on this node. */
export interface Channel {
  readonly name: string;
  deliver(event: GroupEvent): void;
  /**
   * Called by a distributed layer whose connection dropped and came back: events of the
   * channel's groups may have been missed meanwhile, so the channel catches up from the room
   * history. The layer calls it only once it receives every event again.
   */
  resync?(): void;
}

export interface ChannelLayer {
  /** Whether events reach other nodes (false for the embedded backend). */
  readonly distributed: boolean;
  /** A name unique across the cluster for a new local channel. */
  newChannelName(prefix?: string): string;
  /** Resolves once the channel will receive every event sent to the group after this call returns. */
  groupAdd(group: string, channel: Channel): Promise<void>;
  groupDiscard(group: string, channel: Channel): Promise<void>;
  /** Sends to every channel of the group on every node. */
  groupSend(group: string, event: GroupEvent): Promise<void>;
  /** Sends to one channel by name, wherever it lives. */
  send(channelName: string, event: GroupEvent): Promise<void>;
  /** Local channels in a group on this node (for metrics and tests). */
  localGroupSize(group: string): number;
  close(): Promise<void>;
}

/** The group of a room's connections. One place knows the naming. */
export const roomGroup = (room: string): string => `room.${room}`;
