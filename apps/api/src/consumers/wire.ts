import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';

/**
 * Fan-out writes the same frame to every socket of a room. `ws.send(text)` would encode the text
 * and build a frame header for each socket, then write both with a corked writev; here the frame
 * is made once, as the exact bytes of a WebSocket text frame, and each socket gets one plain
 * write of that one buffer. Profiles put the kernel's send at four fifths of a copy's cost; this
 * takes most of the rest.
 */

const SHARED_FRAME = Symbol('roomcast.sharedFrame');
type Framed = { frame: string; [SHARED_FRAME]?: Buffer };

/** An unmasked, unfragmented server text frame (RFC 6455 §5.2) carrying `text`. */
export function encodeTextFrame(text: string): Buffer {
  const length = Buffer.byteLength(text);
  const header = length < 126 ? 2 : length < 65_536 ? 4 : 10;
  const bytes = Buffer.allocUnsafe(header + length);
  bytes[0] = 0x81; // FIN, opcode 1 (text)
  if (header === 2) bytes[1] = length;
  else if (header === 4) {
    bytes[1] = 126;
    bytes.writeUInt16BE(length, 2);
  } else {
    bytes[1] = 127;
    bytes.writeBigUInt64BE(BigInt(length), 2);
  }
  bytes.write(text, header, 'utf8');
  return bytes;
}

/**
 * The bytes of `event.frame`, made by its first recipient and reused by all the others (kept on
 * the event under a symbol, which JSON never serializes, so a layer that sends it on is unaffected).
 */
export function sharedTextFrame(event: { frame: string }): Buffer {
  const framed = event as Framed;
  return (framed[SHARED_FRAME] ??= encodeTextFrame(framed.frame));
}

/**
 * The TCP stream under a server WebSocket, when frames made elsewhere may be written to it
 * directly: with no extension negotiated, ws writes each send straight through in call order
 * (it queues only while compressing), so our writes and its own (pings, closes, error frames)
 * keep their order, and `bufferedAmount` still counts ours. Undefined means: use `send`.
 */
export function directStream(socket: WebSocket): Duplex | undefined {
  return socket.extensions === '' ? streamOf(socket) : undefined;
}

/** The TCP stream under a server WebSocket (ws keeps it as `_socket`). */
function streamOf(socket: WebSocket): Duplex | undefined {
  const stream = (socket as unknown as { _socket?: unknown })._socket;
  return stream instanceof Duplex ? stream : undefined;
}

/** Corked bytes are let out once they pass this, so a corked page never looks like a slow reader. */
const CORK_FLUSH_BYTES = 16 * 1024;

/**
 * Runs `write` with the socket's TCP stream corked and answers what it answers, so the frames it writes leave in a few
 * writevs instead of one system call each (a resume writes a page of frames at once; in a
 * profile of a reconnect storm of 10,000 they were about a fifth of the survivor's send calls). `write`
 * calls `wrote(bytes)` after each frame: past CORK_FLUSH_BYTES what is corked goes out, since
 * corked bytes count in `bufferedAmount`, which the slow-consumer check reads.
 */
export function corked<T>(socket: WebSocket, write: (wrote: (bytes: number) => void) => T): T {
  const stream = streamOf(socket);
  if (!stream) return write(() => undefined);
  let pending = 0;
  stream.cork();
  try {
    return write((bytes) => {
      pending += bytes;
      if (pending < CORK_FLUSH_BYTES) return;
      pending = 0;
      stream.uncork();
      stream.cork();
    });
  } finally {
    stream.uncork();
  }
}
