import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * A crowd of WebSocket clients in a thread of their own, so that their work (a thousand sockets
 * parsing frames, dozens of handshakes a second) does not stall the test's own event loop, which
 * times the victim's chat. It speaks to the test by messages; the code runs as plain CommonJS.
 */
const CROWD_CODE = `
const { parentPort, workerData } = require('node:worker_threads');
const WebSocket = require(workerData.ws);
const { connect: connect_ } = require('node:net');
const { randomBytes } = require('node:crypto');
const PRESENCE = Buffer.from('"type":"presence"');
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const sockets = new Set();
const frames = [];
const last = [];

function connect() {
  // Offering roomcast.v1: a socket without it gets chat messages only, no presence.
  const socket = new WebSocket(workerData.url, 'roomcast.v1');
  socket.on('error', () => undefined);
  socket.on('close', () => sockets.delete(socket));
  sockets.add(socket);
  return socket;
}

async function listen(count) {
  for (let batch = 0; batch < count; batch += 100) {
    await Promise.all(Array.from({ length: Math.min(100, count - batch) }, (_, offset) => {
      const index = frames.length;
      frames.push(0);
      last.push('');
      const socket = connect();
      socket.on('message', (data) => {
        if (!data.includes(PRESENCE)) return;
        frames[index] += 1;
        last[index] = data.toString();
      });
      return new Promise((resolve) => socket.once('open', resolve));
    }));
  }
}

// A storm socket is a hand-written upgrade on raw TCP, dropped after a while: what an attacker
// sends costs it next to nothing, and the crowd's own work must not be what slows the test.
function joinAndDrop(stayMs) {
  const { hostname, port, pathname } = new URL(workerData.url);
  const socket = connect_(Number(port), hostname);
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write('GET ' + pathname + ' HTTP/1.1\\r\\nHost: ' + hostname + ':' + port + '\\r\\nUpgrade: websocket\\r\\n' +
      'Connection: Upgrade\\r\\nSec-WebSocket-Protocol: roomcast.v1\\r\\nSec-WebSocket-Key: ' + randomBytes(16).toString('base64') + '\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n');
    setTimeout(() => socket.destroy(), stayMs);
  });
  socket.resume();
}

async function storm(perSecond, durationMs, stayMs) {
  const started = Date.now();
  const joins = Math.round((perSecond * durationMs) / 1000);
  for (let n = 0; n < joins; n += 1) {
    await sleep(Math.max(0, started + (n * 1000) / perSecond - Date.now()));
    joinAndDrop(stayMs);
  }
}

parentPort.on('message', async ({ id, type, args }) => {
  let result;
  if (type === 'listen') await listen(...args);
  else if (type === 'storm') await storm(...args);
  else if (type === 'reset') frames.fill(0);
  else if (type === 'frames') result = { frames, settled: last.every((text) => text === args[0]) };
  else if (type === 'stop') for (const socket of sockets) socket.terminate();
  parentPort.postMessage({ id, result });
});
`;

export interface Crowd {
  /** Opens `count` listeners, 100 at a time, each counting the presence frames it gets. */
  listen(count: number): Promise<void>;
  /** `perSecond` new sockets a second for `durationMs`, each dropped `stayMs` after it connected. */
  storm(perSecond: number, durationMs: number, stayMs: number): Promise<void>;
  /** Forgets the frames counted so far. */
  reset(): Promise<void>;
  /** Presence frames each listener got, and whether every listener's last one is `settled`. */
  frames(settled: string): Promise<{ frames: number[]; settled: boolean }>;
  stop(): Promise<void>;
}

/** A crowd whose sockets open `room` on the server at `base`. */
export function startCrowd(base: string, room: string): Crowd {
  const worker = new Worker(CROWD_CODE, {
    eval: true,
    workerData: { ws: createRequire(import.meta.url).resolve('ws'), url: `${base.replace(/^http/, 'ws')}/ws/chat/${room}/` },
  });
  const waiting = new Map<number, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  let next = 0;
  let failure: Error | undefined;
  worker.on('message', ({ id, result }: { id: number; result: unknown }) => waiting.get(id)?.resolve(result));
  // A crowd that dies fails the test at once instead of leaving it waiting.
  const fail = (error: Error): void => {
    failure = error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`the crowd's thread exited (${code})`)));
  const ask = <T>(type: string, ...args: unknown[]): Promise<T> =>
    new Promise((resolve, reject) => {
      if (failure) {
        reject(failure);
        return;
      }
      const id = next++;
      waiting.set(id, {
        resolve: (result) => {
          waiting.delete(id);
          resolve(result as T);
        },
        reject,
      });
      worker.postMessage({ id, type, args });
    });
  return {
    listen: (count) => ask('listen', count),
    storm: (perSecond, durationMs, stayMs) => ask('storm', perSecond, durationMs, stayMs),
    reset: () => ask('reset'),
    frames: (settled) => ask('frames', settled),
    async stop() {
      await ask('stop').catch(() => undefined);
      await worker.terminate();
    },
  };
}
