import { performance } from 'node:perf_hooks';
import { chatSocketPath, parseServerFrame } from '@roomcast/protocol';
import { PAYLOAD_BYTES, encodePayload, readStamp, type Stamp } from './payload.js';
import { RawSocket } from './raw-client.js';
import type { ServerKind } from './servers.js';
import { LatencyHistogram, SequenceCheck, tally } from './stats.js';

/** The generator's clock, in µs: send stamps and arrival times come from the same one. */
export const nowUs = (): number => Math.round(performance.now() * 1000);

/** One socket of the fleet: it receives its room's messages and checks every copy. */
export interface Member {
  socket: RawSocket;
  room: number;
  check: SequenceCheck;
  /** Roomcast greets with presence once joined; the baseline joins at the upgrade. */
  joined: Promise<void>;
}

/** Counters over every member, read and reset per step. */
export class Tally {
  /** New copies of bench messages (each counted once per receiver). */
  copies = 0;
  duplicates = 0;
  /** Copies that arrived on a socket of another room. */
  misrouted = 0;
  /** Other frames (presence, errors): counted, not checked. */
  otherFrames = 0;
  /** Copies re-read in full as a spot check of what the server sends, and those that failed it. */
  spotChecked = 0;
  spotFailed = 0;
  readonly latency = new LatencyHistogram();

  resetStep(): void {
    this.copies = 0;
    this.duplicates = 0;
    this.misrouted = 0;
    this.otherFrames = 0;
    this.latency.reset();
  }
}

/** Socket.IO's WebSocket URL for a socket that joins `room` (see socketio-server.ts). */
const socketIoPath = (room: string): string => `/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(room)}`;
const ENGINE_IO_PONG = Buffer.from('3');
const SOCKET_IO_CONNECT = Buffer.from('40');
/** Engine.IO control packets are short; a chat event never is. */
const ENGINE_IO_CONTROL_MAX = 200;

/** One in this many copies is parsed in full and compared with what was sent. */
const SPOT_CHECK_EVERY = 4096;

export interface FleetOptions {
  kind: ServerKind;
  port: number;
  /** Room name of room index `index`. */
  roomName: (index: number) => string;
  /** Source address for this fleet's sockets (127.x.y.z). */
  localAddress?: string;
  timeoutMs: number;
}

/**
 * Sockets in rooms, each checking the copies it gets. A room's messages come from one sender
 * and are numbered 0, 1, 2, ... by the generator, so every receiver can tell a loss, a duplicate
 * and a misrouted copy, and the latency of each copy is arrival minus its send stamp.
 */
export class Fleet {
  readonly members: Member[] = [];
  readonly tally = new Tally();
  /** Messages sent so far to each room. */
  readonly sent: number[] = [];
  private readonly stamp: Stamp = { seq: 0, sentUs: 0, room: 0 };
  private spotCounter = 0;

  constructor(private readonly options: FleetOptions) {}

  /** Opens one socket in room `room` (to `port`, default the fleet's) and starts checking what it gets. */
  open(room: number, port = this.options.port): Member {
    const { kind, roomName, localAddress, timeoutMs } = this.options;
    while (this.sent.length <= room) this.sent.push(0);
    const path = kind === 'socketio' ? socketIoPath(roomName(room)) : chatSocketPath(roomName(room));
    const origin = kind === 'django' ? { origin: `http://127.0.0.1:${port}` } : {};
    const socket = new RawSocket({ host: '127.0.0.1', port, path, timeoutMs, ...origin, ...(localAddress ? { localAddress } : {}) }, nowUs);
    const check = new SequenceCheck();
    let greeted: () => void = () => undefined;
    const greeting = new Promise<void>((resolve) => (greeted = resolve));
    const tally = this.tally;
    const stamp = this.stamp;
    const engineIo = kind === 'socketio';
    socket.onText = (bytes, start, end, arrivedUs) => {
      if (engineIo && end - start <= ENGINE_IO_CONTROL_MAX && this.engineIoControl(socket, bytes, start, end)) {
        if (bytes[start] === 0x34) greeted(); // "40": connected to the namespace
        return;
      }
      greeted();
      if (!readStamp(bytes, start, end, stamp)) {
        tally.otherFrames += 1;
        return;
      }
      if (stamp.room !== room) {
        tally.misrouted += 1;
        return;
      }
      if (!check.see(stamp.seq)) {
        tally.duplicates += 1;
        return;
      }
      tally.copies += 1;
      tally.latency.record(arrivedUs - stamp.sentUs);
      if ((this.spotCounter += 1) % SPOT_CHECK_EVERY === 0) this.spotCheck(bytes.toString('utf8', start, end), room);
    };
    // Roomcast greets with presence, Socket.IO with its namespace's "40"; the others join at the upgrade.
    const joined = kind === 'roomcast' || kind === 'socketio' ? Promise.all([socket.opened, greeting]).then(() => undefined) : socket.opened;
    const member: Member = { socket, room, check, joined };
    this.members.push(member);
    return member;
  }

  /**
   * Engine.IO's own packets: "0{...}" (open: join the namespace with "40"), "2" (ping: answer
   * "3"), "40{...}" (joined). True when the frame was one of them.
   */
  private engineIoControl(socket: RawSocket, bytes: Buffer, start: number, end: number): boolean {
    const first = bytes[start];
    if (first === 0x32 && end - start === 1) socket.sendText(ENGINE_IO_PONG);
    else if (first === 0x30) socket.sendText(SOCKET_IO_CONNECT);
    else if (!(first === 0x34 && bytes[start + 1] === 0x30)) return false;
    return true;
  }

  /** The frame must be exactly what the server promises: Roomcast's chat frame, or the bare text. */
  private spotCheck(text: string, room: number): void {
    this.tally.spotChecked += 1;
    let ok: boolean;
    const kind = this.options.kind;
    if (kind === 'baseline') ok = text.length === PAYLOAD_BYTES && text.startsWith('~');
    else if (kind === 'socketio') ok = text.startsWith('42["chat","~') && text.length === PAYLOAD_BYTES + 13;
    else if (kind === 'django') {
      const frame = JSON.parse(text) as { message?: unknown };
      ok = typeof frame.message === 'string' && frame.message.length === PAYLOAD_BYTES;
    } else {
      const frame = parseServerFrame(text);
      ok = frame?.type === 'chat.message' && frame.room === this.options.roomName(room) && frame.message.length === PAYLOAD_BYTES;
    }
    if (!ok) this.tally.spotFailed += 1;
  }

  /** The frame a sender writes for message `seq` of `room`, stamped now. */
  messageFor(room: number): Buffer {
    const seq = this.sent[room]!;
    this.sent[room] = seq + 1;
    const text = encodePayload(seq, nowUs(), room);
    const kind = this.options.kind;
    if (kind === 'baseline') return Buffer.from(text);
    return Buffer.from(kind === 'socketio' ? `42["chat","${text}"]` : `{"message":"${text}"}`);
  }

  /** Copies still owed to members (sent but neither received nor already counted as skipped). */
  outstanding(): number {
    let owed = 0;
    for (const member of this.members) owed += Math.max(0, this.sent[member.room]! - member.check.expected);
    return owed;
  }

  /** Copies lost so far: skipped over, or never come although sent (call after draining). */
  lost(): number {
    return tally(this.members.map((member) => ({ check: member.check, sent: this.sent[member.room]! }))).lost;
  }

  closedCount(): number {
    let closed = 0;
    for (const member of this.members) if (!member.socket.open) closed += 1;
    return closed;
  }

  /** Waits until nothing is owed or `timeoutMs` passes; true when everything arrived. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.outstanding() > 0) {
      if (Date.now() > deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return true;
  }

  closeAll(): void {
    for (const member of this.members) member.socket.close();
  }

  /** Waits for every socket to be gone (bounded), so the next scenario starts clean. */
  async closed(timeoutMs: number): Promise<void> {
    const all = Promise.all(this.members.map((member) => member.socket.closed));
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
    for (const member of this.members) member.socket.socket.destroy();
  }
}

/** Where one socket goes: its room, and the port of the node it joins. */
export interface Seat {
  room: number;
  port?: number;
}

/**
 * Opens a socket for every seat, `batch` at a time (each batch joined before the next starts),
 * and gives up at `deadline` (ms since the epoch). Resolves with the members, in seat order.
 */
export async function joinInBatches(fleet: Fleet, seats: Seat[], batch: number, deadline: number): Promise<Member[]> {
  const members: Member[] = [];
  for (let from = 0; from < seats.length; from += batch) {
    const remaining = deadline - Date.now();
    const failure = `joining timed out with ${from} of ${seats.length} sockets joined`;
    if (remaining <= 0) throw new Error(failure);
    const group = seats.slice(from, from + batch).map((seat) => fleet.open(seat.room, seat.port));
    members.push(...group);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(failure)), remaining);
    });
    try {
      await Promise.race([Promise.all(group.map((member) => member.joined)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
  return members;
}

/**
 * Has each sender post `perRoom` messages a second to its room for `ms`, rooms staggered evenly
 * across each interval. The sender of room `i` is `senders[i]`.
 */
export async function pace(fleet: Fleet, senders: Member[], perRoom: number, ms: number): Promise<{ sent: number; seconds: number }> {
  const base = senders.map((sender) => fleet.sent[sender.room]!);
  const started = performance.now();
  const end = started + ms;
  let sent = 0;
  for (;;) {
    const now = performance.now();
    const elapsed = (Math.min(now, end) - started) / 1000;
    for (let index = 0; index < senders.length; index += 1) {
      const { room, socket } = senders[index]!;
      const position = elapsed * perRoom - index / senders.length;
      const due = position < 0 ? 0 : Math.floor(position) + 1;
      while (fleet.sent[room]! - base[index]! < due) {
        socket.sendText(fleet.messageFor(room));
        sent += 1;
      }
    }
    if (now >= end) break;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return { sent, seconds: ms / 1000 };
}
