#!/usr/bin/env node
import { createServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

/**
 * A peer: Socket.IO 4 as its documentation shows a chat room, run as its own process so its CPU
 * and memory are its own. A socket joins the room named by `?room=` on connecting; a `chat`
 * event is emitted to everyone in the room (the sender too, as Roomcast and the baseline do).
 * WebSocket transport only (the generator speaks WebSocket), no compression (as the others).
 * With `REDIS_URL`, rooms span processes through @socket.io/redis-adapter (two Redis clients,
 * one to publish, one to subscribe). `PORT` picks the port; `/healthz` answers 200 once listening.
 */
const port = Number(process.env.PORT ?? 0);
const http = createServer((request, response) => {
  if (request.url === '/healthz') response.writeHead(200).end();
  else if (!request.url?.startsWith('/socket.io/')) response.writeHead(404).end();
});
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false, serveClient: false, cors: { origin: '*' } });

const redisUrl = process.env.REDIS_URL;
const clients: Redis[] = [];
if (redisUrl) {
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  clients.push(pub, sub);
  io.adapter(createAdapter(pub, sub));
}

io.on('connection', (socket) => {
  const room = socket.handshake.query.room;
  if (typeof room !== 'string' || room === '') {
    socket.disconnect(true);
    return;
  }
  void socket.join(room);
  socket.on('chat', (text: unknown) => {
    if (typeof text === 'string') io.to(room).emit('chat', text);
  });
});

// The backlog Roomcast listens with (apps/api/src/server.ts LISTEN_BACKLOG).
http.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => {
  const address = http.address();
  process.stdout.write(`socket.io ready on ${typeof address === 'object' && address ? address.port : port}\n`);
});
const stop = (): void => {
  void io.close();
  for (const client of clients) client.disconnect();
  setTimeout(() => process.exit(0), 500).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
