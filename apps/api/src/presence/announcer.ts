import type { FastifyBaseLogger } from 'fastify';

export interface AnnounceOptions {
  /** A room's frame goes out at most this often; changes meanwhile are folded into the next one. */
  intervalMs: number;
  /** Rooms with more connections than this get counts, not every name. */
  listMax: number;
}

/**
 * A node's presence frames cost their listeners at most about this many copies a second, shared
 * equally among the rooms whose presence is changing. One room of up to 1,000 connections hears
 * of changes every interval (250 ms by default), one of 10,000 every 2.5 s: with 50 joins and 50
 * leaves a second in a room of 10,000, a frame every 250 ms was 40,000 copies a second, four
 * times the room's chat, and the chat's p99 rose 2.9x. Shared, because many middling rooms add
 * up as well: after a deploy, 10,000 sockets coming back to 200 rooms of 50 could have 200 frames
 * every 250 ms, 40,000 copies a second, four times the rooms' chat, on the node that is taking
 * the reconnects. A small room is not held back by a big one (each has its share). The people
 * joining get the room's state at once anyway (the snapshot on join).
 */
export const PRESENCE_COPIES_PER_SECOND = 4_000;

/**
 * How long a room of `connections` waits between presence frames while `rooms` rooms (itself
 * included) are changing: at least `intervalMs`; 0 stays 0.
 */
export function presenceIntervalMs(intervalMs: number, connections: number, rooms = 1): number {
  if (intervalMs === 0) return 0;
  return Math.max(intervalMs, Math.ceil((connections * rooms * 1000) / PRESENCE_COPIES_PER_SECOND));
}

/**
 * Sends a room's presence frame, built from the state at that moment. Resolves once sent with the
 * connections it went to, or, not sent (found stale, or another node of the cluster announced
 * the room a moment ago), with how long to wait before trying again.
 */
export type Announce = (room: string) => Promise<{ sent: true; connections: number } | { sent: false; waitMs: number }>;

interface RoomState {
  timer: NodeJS.Timeout | undefined;
  /** A change came after the last frame was built. */
  dirty: boolean;
}

/**
 * Coalesces presence changes per room. The first change of a quiet room is announced at once;
 * changes within the next `intervalMs` wait and go out together in one frame, built from the
 * state when it is sent, so the latest state wins and a room of N listeners costs at most N
 * frames per interval however fast people come and go; a big room's interval is longer
 * (presenceIntervalMs), and longer still while other rooms are changing too (they share the
 * node's PRESENCE_COPIES_PER_SECOND). A room stays known only while it is changing (until one
 * quiet interval has passed).
 */
export class PresenceAnnouncer {
  private readonly rooms = new Map<string, RoomState>();
  private closed = false;

  constructor(
    private readonly intervalMs: number,
    private readonly announce: Announce,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** The room's presence changed (or must be said again): a frame will follow within the interval. */
  changed(room: string): void {
    if (this.closed) return;
    const state = this.rooms.get(room);
    if (state) {
      state.dirty = true;
      return;
    }
    const fresh: RoomState = { timer: undefined, dirty: false };
    this.rooms.set(room, fresh);
    void this.send(room, fresh);
  }

  close(): void {
    this.closed = true;
    for (const state of this.rooms.values()) clearTimeout(state.timer);
    this.rooms.clear();
  }

  private async send(room: string, state: RoomState): Promise<void> {
    state.dirty = false;
    let waitMs = this.intervalMs;
    try {
      const outcome = await this.announce(room);
      if (outcome.sent) waitMs = presenceIntervalMs(this.intervalMs, outcome.connections, this.rooms.size);
      else {
        waitMs = outcome.waitMs;
        state.dirty = true;
      }
    } catch (error) {
      // The backend is away; once it is back the layer has every room announced again.
      this.log.debug({ err: error, room }, 'presence frame not sent');
    }
    if (this.closed) return;
    state.timer = setTimeout(() => this.due(room, state), Math.max(1, waitMs));
    state.timer.unref();
  }

  private due(room: string, state: RoomState): void {
    state.timer = undefined;
    if (state.dirty) void this.send(room, state);
    else this.rooms.delete(room);
  }
}
