import { randomBytes, randomFillSync } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { SUBPROTOCOL } from '@roomcast/protocol';

/**
 * A minimal WebSocket client over a plain TCP socket, for the load generator only. The `ws`
 * client (and `@roomcast/client` on top of it) would make the generator, not the server, the
 * bottleneck: this one reads frames straight out of the TCP chunks and hands the handler the
 * payload's byte range, with no per-frame object, string or event.
 *
 * It speaks just what the bench needs: one upgrade, unfragmented text frames from the server,
 * masked text frames to it, ping/pong and close. Anything else from the server closes it.
 */

export interface RawSocketOptions {
  host: string;
  port: number;
  path: string;
  /** Source address (any 127.x.y.z): spreads many sockets over more ephemeral ports. */
  localAddress?: string;
  /** Gives up on the upgrade after this long. */
  timeoutMs: number;
  /** An `Origin` header (Django Channels' AllowedHostsOriginValidator refuses an upgrade without one). */
  origin?: string;
}

/** Called for every text frame: the payload is `bytes[start, end)`; `nowUs` is when its chunk came. */
export type TextHandler = (bytes: Buffer, start: number, end: number, nowUs: number) => void;

const OPCODE_TEXT = 0x1;
const OPCODE_CLOSE = 0x8;
const OPCODE_PING = 0x9;
const OPCODE_PONG = 0xa;
const HEADER_END = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

const maskPool = Buffer.alloc(4096);
let maskAt = maskPool.length;

/** A client frame: FIN, the opcode, masked with a fresh random key as RFC 6455 asks. */
export function clientFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const extended = length > 125 ? 2 : 0;
  if (length > 0xffff) throw new RangeError('bench frames stay under 64 KiB');
  const frame = Buffer.allocUnsafe(2 + extended + 4 + length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | (extended ? 126 : length);
  if (extended) frame.writeUInt16BE(length, 2);
  if (maskAt === maskPool.length) {
    randomFillSync(maskPool);
    maskAt = 0;
  }
  const keyAt = 2 + extended;
  maskPool.copy(frame, keyAt, maskAt, maskAt + 4);
  maskAt += 4;
  const body = keyAt + 4;
  for (let index = 0; index < length; index += 1) frame[body + index] = payload[index]! ^ frame[keyAt + (index & 3)]!;
  return frame;
}

export class RawSocket {
  readonly socket: Socket;
  /** Resolves once the server answered 101; rejects on refusal, error or timeout. */
  readonly opened: Promise<void>;
  /** Resolves with the close code the server sent (1006 when none came). */
  readonly closed: Promise<number>;
  onText: TextHandler = () => undefined;
  /** Frames of other kinds than text that arrived (pings, pongs). */
  controlFrames = 0;
  private pending: Buffer = EMPTY;
  private upgraded = false;
  private closeCode = 1006;

  constructor(options: RawSocketOptions, now: () => number) {
    const socket = connect({
      host: options.host,
      port: options.port,
      noDelay: true,
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    this.socket = socket;
    let resolveClosed: (code: number) => void = () => undefined;
    this.closed = new Promise((resolve) => (resolveClosed = resolve));
    this.opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`upgrade timed out after ${options.timeoutMs} ms`));
        socket.destroy();
      }, options.timeoutMs);
      socket.once('connect', () => {
        const key = randomBytes(16).toString('base64');
        socket.write(
          `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}:${options.port}\r\nUpgrade: websocket\r\n` +
            `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
            (options.origin === undefined ? '' : `Origin: ${options.origin}\r\n`) +
            // Every frame (presence greets a joined socket), not the Django tutorial's chat-only view.
            `Sec-WebSocket-Protocol: ${SUBPROTOCOL}\r\n\r\n`,
        );
      });
      socket.on('data', (chunk: Buffer) => {
        if (this.upgraded) {
          this.read(chunk, now());
          return;
        }
        const head = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
        const end = head.indexOf(HEADER_END);
        if (end < 0) {
          this.pending = head;
          return;
        }
        clearTimeout(timer);
        const status = head.toString('latin1', 0, head.indexOf('\r\n'));
        if (!/^HTTP\/1\.1 101 /.test(status)) {
          reject(new Error(`upgrade refused: ${status}`));
          socket.destroy();
          return;
        }
        this.upgraded = true;
        this.pending = EMPTY;
        resolve();
        if (end + 4 < head.length) this.read(head.subarray(end + 4), now());
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      socket.once('close', () => {
        clearTimeout(timer);
        reject(new Error('closed before the upgrade'));
        resolveClosed(this.closeCode);
      });
    });
    this.opened.catch(() => undefined);
  }

  get open(): boolean {
    return this.upgraded && !this.socket.destroyed;
  }

  sendText(payload: Buffer): void {
    if (this.open) this.socket.write(clientFrame(OPCODE_TEXT, payload));
  }

  /** Sends a close frame and ends the socket; the server's answer is not awaited. */
  close(): void {
    if (!this.socket.destroyed) {
      if (this.upgraded) this.socket.end(clientFrame(OPCODE_CLOSE, Buffer.from([0x03, 0xe8])));
      else this.socket.destroy();
      // A server that does not answer must not hold the bench's file descriptor.
      setTimeout(() => this.socket.destroy(), 1000).unref();
    }
  }

  private read(chunk: Buffer, nowUs: number): void {
    let bytes = chunk;
    if (this.pending.length) {
      bytes = Buffer.concat([this.pending, chunk]);
      this.pending = EMPTY;
    }
    let at = 0;
    const total = bytes.length;
    while (total - at >= 2) {
      const first = bytes[at]!;
      const second = bytes[at + 1]!;
      if (second & 0x80 || (first & 0x80) === 0) {
        // Servers never mask, and neither server under test fragments: this is not for us.
        this.socket.destroy();
        return;
      }
      let length = second & 0x7f;
      let header = 2;
      if (length === 126) {
        if (total - at < 4) break;
        length = bytes.readUInt16BE(at + 2);
        header = 4;
      } else if (length === 127) {
        if (total - at < 10) break;
        length = Number(bytes.readBigUInt64BE(at + 2));
        header = 10;
      }
      if (total - at < header + length) break;
      const start = at + header;
      const end = start + length;
      const opcode = first & 0x0f;
      if (opcode === OPCODE_TEXT) this.onText(bytes, start, end, nowUs);
      else this.control(opcode, bytes.subarray(start, end));
      at = end;
    }
    if (at < total) this.pending = bytes.subarray(at);
  }

  private control(opcode: number, payload: Buffer): void {
    this.controlFrames += 1;
    if (opcode === OPCODE_PING) this.socket.write(clientFrame(OPCODE_PONG, Buffer.from(payload)));
    else if (opcode === OPCODE_CLOSE) {
      this.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.socket.end(clientFrame(OPCODE_CLOSE, payload.length >= 2 ? Buffer.from(payload.subarray(0, 2)) : EMPTY));
    }
  }
}
