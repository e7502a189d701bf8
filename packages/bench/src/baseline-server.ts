#!/usr/bin/env node
import { createServer, type IncomingMessage } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

/**
 * The baseline: a bare `ws` broadcast server, as its README shows it. Rooms by path, every text
 * frame broadcast as-is to everyone in the room (the sender too, as Roomcast does), and a
 * `POST /rooms/:room/messages` that broadcasts the body's text. No protocol, no IDs, no storage,
 * no presence, no limits: the floor Roomcast is measured against. Run as its own process so its
 * CPU and memory are its own; `PORT` picks the port.
 */
const port = Number(process.env.PORT ?? 0);
const ROOM_PATH = /^\/(?:ws\/chat|rooms)\/([A-Za-z0-9_-]{1,64})(?:\/|\/messages)?(?:\?.*)?$/;
const rooms = new Map<string, Set<WebSocket>>();

function broadcast(members: Set<WebSocket> | undefined, data: Buffer | string): number {
  if (!members) return 0;
  let copies = 0;
  for (const client of members) {
    if (client.readyState === client.OPEN) {
      client.send(data, { binary: false });
      copies += 1;
    }
  }
  return copies;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString()));
    request.on('error', reject);
  });
}

const server = createServer((request, response) => {
  const room = ROOM_PATH.exec(request.url ?? '')?.[1];
  if (request.method !== 'POST' || room === undefined) {
    response.writeHead(request.url === '/healthz' ? 200 : 404).end();
    return;
  }
  readBody(request).then(
    (body) => {
      const { message } = JSON.parse(body) as { message: string };
      broadcast(rooms.get(room), message);
      response.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ room, message }));
    },
    () => response.writeHead(400).end(),
  );
});

const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (socket, request) => {
  const room = ROOM_PATH.exec(request.url ?? '')?.[1];
  if (room === undefined) {
    socket.close(1008, 'bad room');
    return;
  }
  let members = rooms.get(room);
  if (!members) {
    members = new Set();
    rooms.set(room, members);
  }
  members.add(socket);
  socket.on('message', (data, isBinary) => {
    if (!isBinary) broadcast(rooms.get(room), data as Buffer);
  });
  socket.on('close', () => {
    members.delete(socket);
    if (members.size === 0 && rooms.get(room) === members) rooms.delete(room);
  });
  socket.on('error', () => socket.terminate());
});

// The backlog Roomcast listens with (apps/api/src/server.ts LISTEN_BACKLOG), so storms compare like with like.
server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  const address = server.address();
  process.stdout.write(`baseline ready on ${typeof address === 'object' && address ? address.port : port}\n`);
});
const stop = (): void => {
  for (const client of wss.clients) client.terminate();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
