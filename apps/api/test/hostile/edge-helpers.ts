import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

/**
 * Hostile-test tools for the network edge: a reverse proxy like the README's nginx, and raw TCP
 * clients that write a request as slowly as an attacker would.
 */

export interface TestProxy {
  url: string;
  close(): Promise<void>;
}

/**
 * An HTTP and WebSocket reverse proxy to `target` on 127.0.0.1 that appends the client's address
 * to `X-Forwarded-For`, as nginx's `$proxy_add_x_forwarded_for` does: whatever the client wrote
 * there stays in front of it.
 */
export async function startAppendingProxy(targetPort: number): Promise<TestProxy> {
  const forwarded = (headers: IncomingHttpHeaders, peer: string | undefined): string =>
    [headers['x-forwarded-for'], peer].filter((part) => part !== undefined && part !== '').join(', ');
  const sockets = new Set<Socket>();
  const server: Server = createServer((incoming, outgoing) => {
    const upstream = request(
      {
        host: '127.0.0.1',
        port: targetPort,
        method: incoming.method,
        path: incoming.url,
        headers: { ...incoming.headers, 'x-forwarded-for': forwarded(incoming.headers, incoming.socket.remoteAddress), connection: 'close' },
        agent: false,
      },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (incoming, client: Socket, head: Buffer) => {
    const upstream = connect(targetPort, '127.0.0.1', () => {
      const headers = { ...incoming.headers, 'x-forwarded-for': forwarded(incoming.headers, client.remoteAddress) };
      const lines = Object.entries(headers).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
      upstream.write(`${incoming.method} ${incoming.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      client.pipe(upstream).pipe(client);
    });
    sockets.add(upstream);
    upstream.once('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('proxy did not listen');
  return {
    url: `http://127.0.0.1:${address.port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface RawConnection {
  socket: Socket;
  /** Everything the server sent. */
  received(): string;
  /** Milliseconds from connecting until the server closed the connection. */
  closedAfter: Promise<number>;
  /** Writes `text` one byte every `everyMs` until it is all sent or the connection closes. */
  drip(text: string, everyMs: number): void;
  destroy(): void;
}

/** A raw TCP connection to `port`, from `localAddress` (any 127.x.y.z is a different client). */
export async function rawConnect(port: number, localAddress = '127.0.0.1'): Promise<RawConnection> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const started = Date.now();
  let text = '';
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (text += chunk));
  socket.on('error', () => undefined);
  const closedAfter = new Promise<number>((resolve) =>
    socket.once('close', () => {
      clearInterval(timer);
      resolve(Date.now() - started);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    received: () => text,
    closedAfter,
    drip(body, everyMs) {
      let sent = 0;
      timer = setInterval(() => {
        if (sent >= body.length || socket.destroyed) return clearInterval(timer);
        socket.write(body[sent]!);
        sent += 1;
      }, everyMs);
    },
    destroy() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** The status code and parsed JSON body of a raw HTTP answer. */
export function parseAnswer(text: string): { status: number; body: unknown } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  const bodyText = text.slice(text.indexOf('\r\n\r\n') + 4);
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // left as text for the assertion to show
  }
  return { status, body };
}

/** `GET path` from `localAddress` on a fresh connection: the status and how long it took. */
export function timedGet(port: number, path: string, localAddress = '127.0.0.1', headers: Record<string, string> = {}): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path, localAddress, agent: false, headers }, (answer) => {
      answer.resume();
      answer.on('end', () => resolve({ status: answer.statusCode ?? 0, ms: Date.now() - started }));
    });
    call.on('error', reject);
    call.end();
  });
}

/** The `roomcast_edge_refusals_total` counts `/metrics` serves, by reason, read from `localAddress`. */
export function edgeRefusals(port: number, localAddress = '127.0.0.1'): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path: '/metrics', localAddress, agent: false }, (answer) => {
      let text = '';
      answer.setEncoding('utf8');
      answer.on('data', (chunk: string) => (text += chunk));
      answer.on('end', () => {
        const counts: Record<string, number> = {};
        for (const [, reason, count] of text.matchAll(/^roomcast_edge_refusals_total\{reason="([a-z_]+)"\} (\d+)$/gm)) counts[reason!] = Number(count);
        resolve(counts);
      });
    });
    call.on('error', reject);
    call.end();
  });
}
