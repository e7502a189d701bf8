import { SUBPROTOCOL } from '@roomcast/protocol';

/**
 * The part of a WebSocket the client uses: the browser's `WebSocket` and Node's `ws` both fit,
 * so one client runs in the SPA, the CLI, the tests and the bench.
 */
/** Why the server refused an upgrade: its HTTP status and the `{error, code}` body. */
export interface UpgradeRefusal {
  status: number;
  code: string;
  reason: string;
}

export interface SocketLike {
  /**
   * Set by sockets that can see a refused upgrade's HTTP answer (`ws` can, a browser cannot);
   * called before the close event.
   */
  onrefused?: ((refusal: UpgradeRefusal) => void) | null;
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

/** The readable part of a refused upgrade's response in `ws` (an `http.IncomingMessage`). */
interface RefusedResponse {
  statusCode?: number;
  setEncoding(encoding: string): void;
  on(event: 'data', listener: (chunk: string) => void): void;
  on(event: 'end', listener: () => void): void;
}

/** Constructor shape of the `ws` package's WebSocket (kept structural: no Node import here). */
export type NodeWebSocketConstructor = new (
  url: string,
  protocols?: string,
  options?: { headers?: Record<string, string> },
) => SocketLike & {
  on(event: 'unexpected-response', listener: (request: unknown, response: RefusedResponse) => void): void;
  terminate(): void;
};

/** Reads a refusal body `{error, code}`; anything else keeps the status alone. */
export function parseRefusal(status: number, text: string): UpgradeRefusal {
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.code === 'string') return { status, code: body.code, reason: typeof body.error === 'string' ? body.error : '' };
  } catch {
    // not our JSON body: a proxy's page
  }
  return { status, code: '', reason: '' };
}

/**
 * Sockets from the `ws` package, offering `roomcast.v1`, with extra headers (a session cookie, an
 * Origin) when given. A refused upgrade's status and body reach `onrefused` before the close event.
 */
export function nodeWebSocketFactory(Ctor: NodeWebSocketConstructor, headers?: Record<string, string>): WebSocketFactory {
  return (url) => {
    const socket = new Ctor(url, SUBPROTOCOL, headers ? { headers } : {});
    socket.on('unexpected-response', (_request, response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => {
        socket.onrefused?.(parseRefusal(response.statusCode ?? 0, text));
        socket.terminate();
      });
    });
    return socket;
  };
}

/**
 * What a browser does instead, since it cannot see a refused upgrade's answer: asks the same URL
 * over plain HTTP, with its cookies. The server runs the same checks before every upgrade, so a
 * refusal answers with its status and code; a route that would have accepted answers 404.
 */
export async function probeUpgrade(socketUrl: string): Promise<UpgradeRefusal | undefined> {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  let response: Response;
  try {
    response = await fetch(url, { credentials: 'include', headers: { accept: 'application/json' } });
  } catch {
    return undefined;
  }
  const text = await response.text().catch(() => '');
  return response.status >= 400 && response.status !== 404 ? parseRefusal(response.status, text) : undefined;
}
