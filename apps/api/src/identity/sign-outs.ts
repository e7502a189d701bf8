import { createHash } from 'node:crypto';
import { CLOSE } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import type { Channel, ChannelLayer, GroupEvent } from '../layer/channel-layer.js';

/** A socket that can be told its session ended. */
export interface SignedInSocket {
  close(code: number, reason: string): void;
}

/** Every node's sign-out listener is in this group: one subscription per node, not per session. */
export const SIGN_OUTS_GROUP = 'auth.sign-outs';
const SESSION_ENDED = 'session.ended';

/**
 * Session IDs are bearer secrets: only a digest of one is kept with its sockets or travels
 * between nodes.
 */
export const sessionTag = (sessionId: string): string => createHash('sha256').update(sessionId).digest('base64url').slice(0, 32);

/**
 * Logout ends a session on every node: the node that logs it out sends `session.ended` with the
 * session's tag to the sign-outs group, and every node closes that session's sockets with 4001
 * ("signed out"). The node itself closes them at once, before the event goes out.
 */
export class SignOuts implements Channel {
  readonly name: string;
  private readonly sockets = new Map<string, Set<SignedInSocket>>();

  constructor(
    private readonly layer: ChannelLayer,
    private readonly log: FastifyBaseLogger,
  ) {
    this.name = layer.newChannelName('sign-outs');
  }

  /** Joins the group; sign-outs sent from other nodes after this resolves reach this one. */
  start(): Promise<void> {
    return this.layer.groupAdd(SIGN_OUTS_GROUP, this);
  }

  stop(): Promise<void> {
    return this.layer.groupDiscard(SIGN_OUTS_GROUP, this);
  }

  /** Remembers `socket` as one of the session's; returns the function that forgets it. */
  track(tag: string, socket: SignedInSocket): () => void {
    let set = this.sockets.get(tag);
    if (!set) {
      set = new Set();
      this.sockets.set(tag, set);
    }
    set.add(socket);
    return () => {
      set.delete(socket);
      if (set.size === 0 && this.sockets.get(tag) === set) this.sockets.delete(tag);
    };
  }

  /** Closes the session's sockets here, then on every other node. */
  async signOut(tag: string): Promise<void> {
    this.closeSession(tag);
    const frame = JSON.stringify({ session: tag });
    await this.layer.groupSend(SIGN_OUTS_GROUP, { type: SESSION_ENDED, frame });
  }

  deliver(event: GroupEvent): void {
    if (event.type !== SESSION_ENDED) return;
    let tag: unknown;
    try {
      tag = (JSON.parse(event.frame) as { session?: unknown }).session;
    } catch {
      // A malformed event is dropped, never thrown into the layer.
    }
    if (typeof tag === 'string') this.closeSession(tag);
    else this.log.warn('dropped a session.ended event without a session');
  }

  private closeSession(tag: string): void {
    const set = this.sockets.get(tag);
    if (!set) return;
    this.sockets.delete(tag);
    for (const socket of set) socket.close(CLOSE.signedOut, 'signed out');
  }
}
