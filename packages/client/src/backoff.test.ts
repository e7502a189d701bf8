import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay } from './backoff.js';
import { newNonce } from './nonce.js';
import { RoomClient } from './room.js';
import type { SocketLike } from './socket.js';

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, without jitter', () => {
    const delays = [0, 1, 2, 3, 10, 50].map((tries) => backoffDelay(tries, { baseMs: 100, maxMs: 3000, jitter: 0 }));
    expect(delays).toEqual([100, 200, 400, 800, 3000, 3000]);
  });

  it('takes up to the jitter fraction off at random', () => {
    expect(backoffDelay(2, { baseMs: 100, jitter: 0.5, random: () => 0 })).toBe(400);
    expect(backoffDelay(2, { baseMs: 100, jitter: 0.5, random: () => 0.999999 })).toBe(200);
    for (let i = 0; i < 100; i += 1) {
      const delay = backoffDelay(3);
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });
});

describe('newNonce', () => {
  it('is unique across many calls', () => {
    const nonces = new Set(Array.from({ length: 10_000 }, () => newNonce()));
    expect(nonces.size).toBe(10_000);
  });
});

/** A socket that never connects: enough to drive the reconnect timer with fake timers. */
class SilentSocket implements SocketLike {
  static opened: string[] = [];
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  readyState = 0;
  constructor(readonly url: string) {
    SilentSocket.opened.push(url);
  }
  readonly sent: string[] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  close(): void {}
  drop(code = 1006): void {
    this.onclose?.({ code, reason: '' });
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  /** A frame from the server. */
  receive(frame: unknown): void {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

describe('RoomClient reconnect timing (fake timers)', () => {
  let sockets: SilentSocket[];
  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reconnects after the computed delay, resumes with since, and stops on 1008', () => {
    const client = new RoomClient({
      url: 'https://chat.example',
      room: 'lobby',
      since: '5-0',
      clientId: 'client-0123456789abcdef',
      reconnectDelay: (tries) => 1000 * (tries + 1),
      createSocket: (url) => {
        const socket = new SilentSocket(url);
        sockets.push(socket);
        return socket;
      },
    });
    const statuses: string[] = [];
    client.on('status', (status) => statuses.push(status));
    client.connect();
    expect(sockets[0]!.url).toBe('wss://chat.example/ws/chat/lobby/?since=5-0&client=client-0123456789abcdef');

    sockets[0]!.drop();
    expect(client.status).toBe('reconnecting');
    vi.advanceTimersByTime(999);
    expect(sockets).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(2);

    sockets[1]!.drop();
    vi.advanceTimersByTime(1999);
    expect(sockets).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(sockets).toHaveLength(3);

    sockets[2]!.drop(1008);
    expect(client.status).toBe('closed');
    vi.advanceTimersByTime(60_000);
    expect(sockets).toHaveLength(3);
    expect(statuses).toEqual(['reconnecting', 'closed']);
  });

  it('throws on misuse: connecting twice, or after close', () => {
    const client = new RoomClient({ url: 'http://x', room: 'a', createSocket: (url) => new SilentSocket(url) });
    client.connect();
    expect(() => client.connect()).toThrow('twice');
    client.close();
    expect(() => client.send('hi')).toThrow('closed');
  });
});

describe('RoomClient resends an unconfirmed send (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const unconfirmed = (nonce: string) => ({ type: 'error', code: 'unconfirmed', reason: 'may have been stored', nonce });

  it('resends the SAME nonce after the delay until confirmed, and fails after five unconfirmed answers', async () => {
    let socket: SilentSocket | undefined;
    const client = new RoomClient({
      url: 'http://x',
      room: 'a',
      resendDelay: (tries) => 100 * (tries + 1),
      createSocket: (url) => (socket = new SilentSocket(url)),
    }).connect();
    socket!.open();
    const first = client.send('hello', 'n-1');
    expect(socket!.sent).toHaveLength(1);
    socket!.receive(unconfirmed('n-1'));
    vi.advanceTimersByTime(99);
    expect(socket!.sent).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(socket!.sent).toEqual([socket!.sent[0], socket!.sent[0]]);
    expect(JSON.parse(socket!.sent[1]!)).toMatchObject({ message: 'hello', nonce: 'n-1' });
    socket!.receive({ type: 'chat.message', id: '1-0', room: 'a', user: null, message: 'hello', ts: 1, nonce: 'n-1' });
    await expect(first.confirmed).resolves.toMatchObject({ id: '1-0' });

    const second = client.send('again', 'n-2');
    for (let n = 0; n < 5; n += 1) {
      socket!.receive(unconfirmed('n-2'));
      vi.advanceTimersByTime(100 * (n + 1));
    }
    expect(socket!.sent.filter((text) => text.includes('"n-2"'))).toHaveLength(6);
    socket!.receive(unconfirmed('n-2'));
    await expect(second.confirmed).rejects.toMatchObject({ name: 'SendRefused' });

    // `unavailable` means nothing was stored: refused at once, for the caller to retry.
    const third = client.send('refused', 'n-3');
    socket!.receive({ type: 'error', code: 'unavailable', reason: 'not stored', nonce: 'n-3' });
    await expect(third.confirmed).rejects.toMatchObject({ name: 'SendRefused' });
    client.close();
  });
});
