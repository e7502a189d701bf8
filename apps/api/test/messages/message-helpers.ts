import type { ChatMessage, MessageState, RoomEventFrame, ServerFrame } from '@roomcast/protocol';
import { register } from '../auth-helpers.js';
import { TestSocket, type SocketOptions, type TestNode } from '../helpers.js';

export const LOG_TYPES = new Set(['chat.message', 'chat.edit', 'chat.delete', 'reaction']);

/** The frames of the room's log a socket received, in order. */
export const logFrames = (socket: TestSocket): RoomEventFrame[] =>
  socket.frames.filter((frame: ServerFrame): frame is RoomEventFrame => LOG_TYPES.has(frame.type));

/** How a client's name for an actor reads in `reactions`: `alice`, `guest:NAME`, `api:NAME`. */
const who = (frame: { user: string | null; guest?: string; via?: string }): string =>
  frame.user === null ? `guest:${frame.guest ?? ''}` : frame.via === undefined ? frame.user : `${frame.via}:${frame.user}`;

/**
 * What a client knows after folding the log frames it received, in order: the state `GET
 * /rooms/:room/messages` should answer (the client's fold of the protocol, written out here).
 */
export function fold(frames: RoomEventFrame[]): MessageState[] {
  const states = new Map<string, MessageState>();
  for (const frame of frames) {
    if (frame.type === 'chat.message') {
      const { nonce: _nonce, ...message } = frame as ChatMessage;
      states.set(frame.id, message);
      continue;
    }
    const target = states.get(frame.target);
    if (frame.type === 'chat.delete') {
      const base = target ?? { type: 'chat.message' as const, id: frame.target, room: frame.room, user: null, ts: Number(frame.target.split('-')[0]) };
      const { message: _m, edited: _e, reactions: _r, mentions: _n, replyTo: _p, ...rest } = base;
      states.set(frame.target, { ...rest, deleted: true });
      continue;
    }
    if (!target || target.deleted) continue;
    if (frame.type === 'chat.edit') {
      const { mentions: _n, ...rest } = target;
      states.set(frame.target, { ...rest, message: frame.message, edited: frame.ts, ...(frame.mentions ? { mentions: frame.mentions } : {}) });
    } else {
      const reactions = { ...target.reactions };
      const name = who(frame);
      const rest = (reactions[frame.emoji] ?? []).filter((n) => n !== name);
      reactions[frame.emoji] = frame.on ? [...rest, name] : rest;
      if (reactions[frame.emoji]!.length === 0) delete reactions[frame.emoji];
      const { reactions: _r, ...base } = target;
      states.set(frame.target, Object.keys(reactions).length > 0 ? { ...base, reactions } : base);
    }
  }
  return [...states.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
}

/** Registers `name` on `node` and opens a signed-in socket in `room`. */
export async function signedIn(node: TestNode, room: string, name: string, options: SocketOptions = {}): Promise<{ socket: TestSocket; cookie: string }> {
  const cookie = await register(node, name);
  const socket = await TestSocket.open(node.url, room, { ...options, headers: { cookie, ...options.headers } });
  return { socket, cookie };
}

/** Sends a frame with a nonce and waits for the sender's confirmation (its own copy) or refusal. */
export async function sendAndWait(socket: TestSocket, frame: Record<string, unknown>, nonce: string): Promise<ServerFrame> {
  socket.send({ ...frame, nonce });
  return socket.waitFor((f) => 'nonce' in f && f.nonce === nonce, `the answer to ${nonce}`);
}
