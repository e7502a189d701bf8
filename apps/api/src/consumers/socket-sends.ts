import { serializeFrame, withNonce, type ClientFrame, type ErrorCode } from '@roomcast/protocol';
import type { FastifyBaseLogger } from 'fastify';
import { CHANGE_REFUSAL_REASONS, type ChangeDraft } from '../history/room-events.js';
import type { RoomStanding } from '../registry/room-registry.js';
import { slowModeReason, slowModeWait, type Actor as AccessActor } from '../rooms/access.js';
import { auditModeratorDelete, changeRight, mayReact } from '../rooms/message-policy.js';
import { roomMentions } from '../rooms/mentions.js';
import { nonceKey, publishRefusal } from '../rooms/publisher.js';
import type { ConsumerContext } from './room-consumer.js';

/** How a socket's sends are answered: the consumer's own frame, refusal and logger. */
export interface SendAnswers {
  sendText(text: string): boolean;
  refuse(code: ErrorCode, reason: string, nonce?: string, retryAfterMs?: number): void;
  log(): FastifyBaseLogger;
  /** The room's standing for the socket's person now (slow mode, moderation). */
  standing(): RoomStanding;
  actor(): AccessActor;
}

/**
 * What a socket sends into its room's log: messages (with a reply and the mentions the server
 * recognises) and changes to messages (edits, deletions, reactions), all through the one publish
 * path. A refusal the actor earns without looking at the log (a guest editing) is answered here;
 * the log's own (not found, not yours) come back from the append.
 */
export class SocketSends {
  /** Sends waiting behind a mention lookup, so that the socket's sends are stored in the order sent. */
  private queued = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: ConsumerContext,
    /** The socket's channel name: its own copies carry the nonce. */
    private readonly channel: string,
    /** Whose nonces the socket's sends are (see AppendOrigin.scope). */
    private readonly scope: string,
    private readonly answer: SendAnswers,
  ) {}

  /**
   * Runs a send now, or behind the sends waiting for a mention lookup: a text with `@` waits for
   * the room's members, and the socket's later sends wait for it, so they are stored in order.
   */
  private inOrder(text: string, send: (mentions: string[]) => void): void {
    if (!text.includes('@') && this.queued === 0) {
      send([]);
      return;
    }
    this.queued += 1;
    this.queue = this.queue
      .then(() => roomMentions(this.ctx.backend, this.ctx.room, text))
      .catch((error: unknown) => {
        this.answer.log().debug({ err: error }, 'mentions not recognised');
        return [];
      })
      .then((mentions) => send(mentions))
      .finally(() => {
        this.queued -= 1;
      });
  }

  /** Posts, once slow mode (in a claimed room that has it) lets the message through. */
  post(message: string, nonce: string | undefined, replyTo: string | undefined): void {
    const standing = this.answer.standing();
    if (!standing.claimed || standing.slowModeMs <= 0) {
      this.publishPost(message, nonce, replyTo);
      return;
    }
    slowModeWait(this.ctx.backend.rooms, this.ctx.room, standing, this.answer.actor()).then(
      (wait) => {
        if (wait > 0) this.answer.refuse('rate_limited', slowModeReason(standing, wait), nonce, wait);
        else this.publishPost(message, nonce, replyTo);
      },
      (error: unknown) => {
        this.answer.log().warn({ err: error }, 'slow mode not checked');
        this.answer.refuse('unavailable', 'The message was not stored; send it again.', nonce);
      },
    );
  }

  private publishPost(message: string, nonce: string | undefined, replyTo: string | undefined): void {
    const { room, user, guest, publisher } = this.ctx;
    const origin = nonce === undefined ? { sender: this.channel } : { sender: this.channel, nonce, scope: this.scope };
    this.inOrder(message, (mentions) => {
      const draft = {
        room,
        user,
        ...(guest === undefined ? {} : { guest }),
        message,
        ...(replyTo === undefined ? {} : { replyTo }),
        ...(mentions.length === 0 ? {} : { mentions }),
      };
      // A nonce seen before (a resend after a reconnect or an `unconfirmed`) is stored once: the
      // sender gets its confirmation again, the room gets nothing new.
      publisher
        .publish(draft, origin, nonce === undefined ? undefined : nonceKey(room, this.scope, nonce))
        .then(({ message: stored, duplicate }) => {
          if (duplicate && nonce !== undefined) this.answer.sendText(withNonce(serializeFrame(stored), nonce));
        })
        .catch((error: unknown) => this.publishFailed(error, nonce));
    });
  }

  /** An edit, a deletion or a reaction: refused here when the actor may not at all, else checked by the log. */
  change(frame: Extract<ClientFrame, { kind: 'edit' | 'delete' | 'reaction' }>): void {
    const { room, user, guest, publisher } = this.ctx;
    const actor = { room, user, ...(guest === undefined ? {} : { guest }), target: frame.target };
    const { nonce } = frame;
    const standing = this.answer.standing();
    if (frame.kind === 'reaction' ? !mayReact(actor) : changeRight(actor, room, frame.kind, standing) === 'none') {
      const why = frame.kind === 'reaction' ? 'Choose a name or sign in to react.' : 'Sign in to edit or delete your own messages.';
      this.answer.refuse('forbidden', why, nonce);
      return;
    }
    const origin = nonce === undefined ? { sender: this.channel } : { sender: this.channel, nonce, scope: this.scope };
    this.inOrder(frame.kind === 'edit' ? frame.message : '', (mentions) => {
      const draft: ChangeDraft =
        frame.kind === 'edit'
          ? { ...actor, kind: 'edit', message: frame.message, mentions, right: changeRight(actor, room, 'edit') }
          : frame.kind === 'delete'
            ? { ...actor, kind: 'delete', right: changeRight(actor, room, 'delete', standing) }
            : { ...actor, kind: 'reaction', emoji: frame.emoji };
      publisher
        .change(draft, origin, nonce === undefined ? undefined : nonceKey(room, this.scope, nonce))
        .then(({ event, state }) => {
          if (state === 'duplicate' && nonce !== undefined) this.answer.sendText(withNonce(serializeFrame(event), nonce));
          if (state === 'stored' && draft.kind === 'delete' && draft.right === 'any' && user !== null) {
            auditModeratorDelete(this.ctx.backend.rooms, room, user, draft.target).catch((error: unknown) =>
              this.answer.log().warn({ err: error }, 'moderator deletion not audited'),
            );
          }
        })
        .catch((error: unknown) => this.publishFailed(error, nonce));
    });
  }

  private publishFailed(error: unknown, nonce: string | undefined): void {
    const code = publishRefusal(error);
    if (code === 'not_found' || code === 'forbidden') {
      this.answer.refuse(code, CHANGE_REFUSAL_REASONS[code], nonce);
      return;
    }
    this.answer.log().warn({ err: error, code }, 'publish failed');
    this.answer.refuse(
      code,
      code === 'unavailable'
        ? 'The message was not stored; send it again.'
        : 'The message may have been stored; resend it with the same nonce (it is stored at most once).',
      nonce,
    );
  }
}
