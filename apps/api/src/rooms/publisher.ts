import type { ChatMessage } from '@roomcast/protocol';
import type { AppendOrigin, MessageDraft, RoomHistory } from '../history/room-history.js';
import type { Metrics } from '../metrics.js';

/**
 * The one publish path. A message from a socket, from `POST /rooms/:room/messages` and from the
 * CLI (which posts over HTTP) comes through here: stored and fanned out in one step by the
 * room history, so it reaches everyone in the order it is kept.
 */
export class Publisher {
  constructor(
    private readonly history: RoomHistory,
    private readonly metrics: Metrics,
  ) {}

  async publish(draft: MessageDraft, origin?: AppendOrigin): Promise<ChatMessage> {
    const message = await this.history.append(draft, origin);
    this.metrics.messagesIn += 1;
    return message;
  }
}
