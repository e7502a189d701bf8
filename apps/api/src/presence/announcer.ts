import type { FastifyBaseLogger } from 'fastify';

export interface AnnounceOptions {
  /** A room's frame goes out at most this often; changes meanwhile are folded into the next one. */
  intervalMs: number;
  /** Rooms with more connections than this get counts, not every name. */
  listMax: number;
}

/**
 * Sends a room's presence frame, built from the state at that moment. Resolves to 0 once sent
 * (or found stale), or to a number of milliseconds to wait before trying again (another node of
 * the cluster announced the room a moment ago).
 */
export type Announce = (room: string) => Promise<number>;

interface RoomState {
  timer: NodeJS.Timeout | undefined;
  /** A change came after the last frame was built. */
  dirty: boolean;
}

/**
 * Coalesces presence changes per room. The first change of a quiet room is announced at once;
 * changes within the next `intervalMs` wait and go out together in one frame, built from the
 * state when it is sent, so the latest state wins and a room of N listeners costs at most N
 * frames per interval however fast people come and go. A room stays known only while it is
 * changing (until one quiet interval has passed).
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
    let retryAfterMs = 0;
    try {
      retryAfterMs = await this.announce(room);
    } catch (error) {
      // The backend is away; once it is back the layer has every room announced again.
      this.log.debug({ err: error, room }, 'presence frame not sent');
    }
    if (this.closed) return;
    if (retryAfterMs > 0) state.dirty = true;
    state.timer = setTimeout(() => this.due(room, state), retryAfterMs > 0 ? retryAfterMs : this.intervalMs);
    state.timer.unref();
  }

  private due(room: string, state: RoomState): void {
    state.timer = undefined;
    if (state.dirty) void this.send(room, state);
    else this.rooms.delete(room);
  }
}
