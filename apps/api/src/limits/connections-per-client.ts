import type { Socket } from 'node:net';

/**
 * Open TCP connections per client key (see `clientKey`) on this node, so one address cannot take
 * every file descriptor. A connection is counted once, for as long as it is open: when it is
 * accepted if its peer is the client, or at its WebSocket upgrade if it came through a trusted
 * proxy (only then is the client's address known).
 */
export class ConnectionsPerClient {
  private readonly counts = new Map<string, number>();
  private readonly counted = new WeakSet<Socket>();

  /** `cap` connections per key; 0 counts nothing and refuses nothing. */
  constructor(readonly cap: number) {}

  /**
   * Counts `socket` under `key` until it closes. True when it is counted (now or before); false,
   * counting nothing, when `key` already has `cap` open connections.
   */
  admit(socket: Socket, key: string): boolean {
    if (this.cap <= 0 || this.counted.has(socket)) return true;
    const open = this.counts.get(key) ?? 0;
    if (open >= this.cap) return false;
    this.counts.set(key, open + 1);
    this.counted.add(socket);
    socket.once('close', () => this.release(key));
    return true;
  }

  /** Open connections counted under `key`. */
  open(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  private release(key: string): void {
    const left = (this.counts.get(key) ?? 1) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}
