import { SUBPROTOCOL } from '@roomcast/protocol';

/**
 * The part of a WebSocket the client uses: the browser's `WebSocket` and Node's `ws` both fit,
 * so one client runs in the SPA, the CLI, the tests and the bench.
 */
export interface SocketLike {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  readonly readyState: number;
}

export type WebSocketFactory = (url: string) => SocketLike;

/**
 * Sockets from the global `WebSocket` (browsers; Node 22+). Every socket offers the `roomcast.v1`
 * subprotocol: without it the server sends only chat messages (the Django tutorial's page).
 */
export function browserWebSocketFactory(): WebSocketFactory {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols?: string) => SocketLike }).WebSocket;
  return (url) => {
    if (!Ctor) throw new Error('No global WebSocket here: pass createSocket: nodeWebSocketFactory(WebSocket) from the ws package');
    return new Ctor(url, SUBPROTOCOL);
  };
}

/** Constructor shape of the `ws` package's WebSocket (kept structural: no Node import here). */
export type NodeWebSocketConstructor = new (
  url: string,
  protocols?: string,
  options?: { headers?: Record<string, string> },
) => SocketLike;

/** Sockets from the `ws` package, offering `roomcast.v1`, with extra headers (a session cookie, an Origin) when given. */
export function nodeWebSocketFactory(Ctor: NodeWebSocketConstructor, headers?: Record<string, string>): WebSocketFactory {
  return (url) => new Ctor(url, SUBPROTOCOL, headers ? { headers } : {});
}
