import { compareMessageIds, serializeFrame, withNonce } from '@roomcast/protocol';
import type { WebSocket } from 'ws';
import { firstAfter } from '../history/memory.js';
import { EVERY_SENDER, type ReplayStart, type RoomHistory } from '../history/room-history.js';
import { TurnBatch } from '../turn-batch.js';
import { ReplayBudget } from './replay-budget.js';
import { corked } from './wire.js';

/** A replay page aims at about this many bytes of frames... */
const PAGE_BYTES = 64 * 1024;
/** ...read as this many messages at first, then as many as the last page's sizes suggest, up to... */
const FIRST_PAGE_MESSAGES = 32;
const MAX_PAGE_MESSAGES = 200;
/**
 * A page not acknowledged (its ping answered) within this, or a turn of the IP's budget not come
 * within it, ends the resume: the socket is closed 1013 and resumes later.
 */
export const REPLAY_ACK_TIMEOUT_MS = 10_000;

/** One message ready to write: its ID and its frame's text, made once. */
export interface ReplayFrame {
  id: string;
  /** The frame's type: a chat-only socket skips changes. */
  type: string;
  frame: string;
  /** Who sent it with which nonce (shared catch-ups only): their own socket's copy carries it. */
  sender?: { scope: string; nonce: string };
}

export interface ReplaySettings {
  history: RoomHistory;
  /** Replay bytes one resume sends at most (RESUME_MAX_BYTES). */
  maxBytes: number;
  /** Unacknowledged replay bytes per IP (RESUME_BUFFER_PER_IP). */
  bufferPerIp: number;
}

/** How a paced replay ended. */
export type ReplayOutcome =
  | { state: 'done'; complete: boolean; lastId: string | undefined }
  /** The client did not acknowledge a page in time, or its IP's turn never came: close it 1013. */
  | { state: 'too-slow' }
  /** The socket closed meanwhile. */
  | { state: 'closed' };

/**
 * A node's replays of room history to sockets. A resume (`since` on the upgrade) is paced: pages
 * of about PAGE_BYTES, each written only once the client has acknowledged the previous one (a
 * WebSocket ping after each page: its pong comes back only once the client has read everything
 * before it), within the IP's budget of unacknowledged bytes and at most `maxBytes` in all (the
 * newest ones; past that `complete` is false, as for history that was trimmed). A catch-up after
 * the node's Redis subscription came back (`sharedCatchUp`) is one read per room, shared by every
 * socket of the room on this node.
 */
export class Replays {
  readonly budget: ReplayBudget;
  /** Catch-ups asked for in this turn, per room: one read from the earliest point answers them all. */
  private readonly sharedReads = new TurnBatch<string, SharedRead>((room, points) =>
    this.readShared(room, points.reduce((min, point) => (compareMessageIds(point, min) < 0 ? point : min))),
  );
  /** Replay starts being worked out, by room and point. */
  private readonly starts = new Map<string, Promise<ReplayStart>>();
  /** Replay pages being read, by room, point and size: one read and one frame each for all. */
  private readonly pages = new Map<string, Promise<SharedPage>>();

  constructor(private readonly settings: ReplaySettings) {
    this.budget = new ReplayBudget(settings.bufferPerIp);
  }

  /**
   * Sends `socket` the room's messages after `since`, paced as above, through `write` (which
   * sends one frame's text and returns false once the socket is gone or too slow).
   */
  async paced(
    room: string,
    since: string,
    ip: string,
    socket: WebSocket,
    write: (text: string) => boolean,
    /** The socket's nonce scope: its own messages are replayed with their nonce. */
    scope?: string,
    /** Which frame types the socket gets (default: all); the others are skipped, not sent. */
    wants?: (type: string) => boolean,
  ): Promise<ReplayOutcome> {
    const start = await this.start(room, since);
    let after = start.after;
    let complete = !start.cut;
    let lastId: string | undefined;
    let count = FIRST_PAGE_MESSAGES;
    for (let first = true; ; first = false) {
      const lease = await this.budget.acquire(ip, REPLAY_ACK_TIMEOUT_MS);
      if (!lease) return { state: 'too-slow' };
      try {
        if (!isOpen(socket)) return { state: 'closed' };
        const page = await this.page(room, after, count);
        if (first) complete &&= page.complete;
        let bytes = 0;
        const written = corked(socket, (wrote) => {
          for (const frame of page.frames) {
            if (wants && !wants(frame.type)) continue;
            const text = frame.sender !== undefined && frame.sender.scope === scope ? withNonce(frame.frame, frame.sender.nonce) : frame.frame;
            if (!write(text)) return false;
            bytes += frame.bytes;
            wrote(frame.bytes);
          }
          return true;
        });
        if (!written) return isOpen(socket) ? { state: 'too-slow' } : { state: 'closed' };
        lease.sent(bytes);
        const last = page.frames.at(-1);
        if (last) {
          after = last.id;
          lastId = last.id;
        }
        const acknowledged = await pong(socket, REPLAY_ACK_TIMEOUT_MS);
        if (acknowledged === 'closed') return { state: 'closed' };
        if (acknowledged === 'timeout') return { state: 'too-slow' };
        if (page.frames.length < count) return { state: 'done', complete, lastId };
        count = Math.min(MAX_PAGE_MESSAGES, Math.max(1, Math.floor((PAGE_BYTES * page.frames.length) / Math.max(1, bytes))));
      } finally {
        lease.done();
      }
    }
  }

  /**
   * One page of a paced replay. Sockets of a room resuming together (after a node went away they
   * all come back from the same last message) share the read and its frames; each socket's own
   * messages get their nonce back as they are written.
   */
  private page(room: string, after: string, count: number): Promise<SharedPage> {
    const key = `${room} ${after} ${count}`;
    let page = this.pages.get(key);
    if (!page) {
      page = this.settings.history.readAfter(room, after, count, EVERY_SENDER).then(({ messages, complete }) => ({
        complete,
        frames: messages.map(({ nonce, nonceScope, ...message }) => {
          const frame = serializeFrame(message);
          const sender = nonce === undefined || nonceScope === undefined ? undefined : { scope: nonceScope, nonce };
          return { id: message.id, type: message.type, frame, bytes: Buffer.byteLength(frame), ...(sender ? { sender } : {}) };
        }),
      }));
      this.pages.set(key, page);
      const forget = (): void => void this.pages.delete(key);
      page.then(forget, forget);
    }
    return page;
  }

  /**
   * The room's messages after `since`, for a socket catching up after a gap: every socket of
   * the room asking in the same turn shares one read (from the earliest point any of them asked
   * for), and each gets its own part of it. Frames are made once for all of them.
   */
  async sharedCatchUp(room: string, since: string): Promise<{ frames: ReplayFrame[]; complete: boolean }> {
    const read = await this.sharedReads.add(room, since);
    // A socket that asked from before where the read started (the byte cap) missed messages.
    const complete = read.complete && compareMessageIds(since, read.after) >= 0;
    return { frames: read.frames.slice(firstAfter(read.frames, since)), complete };
  }

  /** Every message after `since` within the byte cap, for `sharedCatchUp`. */
  private async readShared(room: string, since: string): Promise<SharedRead> {
    const start = await this.start(room, since);
    const frames: ReplayFrame[] = [];
    let after = start.after;
    let complete = !start.cut;
    for (let first = true; ; first = false) {
      const page = await this.settings.history.readAfter(room, after, MAX_PAGE_MESSAGES, EVERY_SENDER);
      if (first) complete &&= page.complete;
      for (const { nonce, nonceScope, ...message } of page.messages) {
        const frame = { id: message.id, type: message.type, frame: serializeFrame(message) };
        frames.push(nonce === undefined || nonceScope === undefined ? frame : { ...frame, sender: { scope: nonceScope, nonce } });
      }
      if (page.messages.length < MAX_PAGE_MESSAGES) break;
      after = page.messages.at(-1)!.id;
    }
    return { frames, complete, after: start.after };
  }

  /**
   * Where a replay after `since` starts (see RoomHistory.replayStart). Sockets asking the same
   * of the same room at the same time (a flood of resumes from one point) share one answer.
   */
  private start(room: string, since: string): Promise<ReplayStart> {
    const key = `${room} ${since}`;
    let start = this.starts.get(key);
    if (!start) {
      start = this.settings.history.replayStart(room, since, this.settings.maxBytes);
      this.starts.set(key, start);
      const forget = (): void => void this.starts.delete(key);
      start.then(forget, forget);
    }
    return start;
  }
}

interface SharedPage {
  frames: Array<ReplayFrame & { bytes: number }>;
  complete: boolean;
}

interface SharedRead {
  frames: ReplayFrame[];
  complete: boolean;
  /** The point the read started after: a socket that asked from before it missed messages. */
  after: string;
}

const isOpen = (socket: WebSocket): boolean => socket.readyState === socket.OPEN;

let pings = 0;

/**
 * Pings `socket` and waits for the matching pong: it comes back only after the client has read
 * everything sent before the ping, so it acknowledges the page.
 */
function pong(socket: WebSocket, timeoutMs: number): Promise<'ok' | 'timeout' | 'closed'> {
  if (!isOpen(socket)) return Promise.resolve('closed');
  pings += 1;
  const token = Buffer.from(`replay-${pings}`);
  return new Promise((resolve) => {
    const finish = (outcome: 'ok' | 'timeout' | 'closed'): void => {
      clearTimeout(timer);
      socket.off('pong', onPong);
      socket.off('close', onClose);
      resolve(outcome);
    };
    const onPong = (data: Buffer): void => {
      if (data.equals(token)) finish('ok');
    };
    const onClose = (): void => finish('closed');
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    socket.on('pong', onPong);
    socket.on('close', onClose);
    socket.ping(token);
  });
}
