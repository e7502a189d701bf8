import { spawnServer, type ServerProcess } from '@roomcast/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep } from '../helpers.js';
import { figure, roomMessages } from './support.js';

/**
 * Finding: a node paused 20 s rate-limited its own clients' queued frames when it resumed: frames
 * sent at a legal pace, read late, were refused as a burst. Now the time the process stood still
 * is credited to the buckets. The node is a real server process, stopped with SIGSTOP (here 4 s).
 */
const RATE = 20;
const PACE_PER_SECOND = 15;
const PAUSE_MS = 4000;

describe('a node paused with SIGSTOP', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer({ SOCKET_RATE: String(RATE) }, { readyPath: '/healthz' });
  });
  afterAll(async () => {
    server.process.kill('SIGCONT');
    await server.stop();
  });

  it('does not refuse frames that were sent at a legal pace while it was stopped', async () => {
    const socket = await TestSocket.open(server.url, 'paused-node');
    let sent = 0;
    const send = (): void => {
      socket.send({ type: 'chat.message', message: `m${sent}`, nonce: `n-${sent}` });
      sent += 1;
    };
    const sendFor = async (ms: number): Promise<void> => {
      for (const end = Date.now() + ms; Date.now() < end; ) {
        send();
        await sleep(1000 / PACE_PER_SECOND);
      }
    };
    await sendFor(1000);
    server.process.kill('SIGSTOP');
    await sendFor(PAUSE_MS);
    server.process.kill('SIGCONT');
    await sendFor(1000);

    const answered = (): number => socket.frames.filter((frame) => 'nonce' in frame && frame.nonce !== undefined).length;
    await eventually(() => answered() >= sent, 15_000, `an answer to each of ${sent} sends (have ${answered()})`);
    const refused = socket.frames.filter((frame) => frame.type === 'error');
    const queuedDuringPause = Math.floor((PAUSE_MS / 1000) * PACE_PER_SECOND);
    figure(`paused node: sent / queued during the pause / refused (socket rate ${RATE}/s, burst ${2 * RATE})`, `${sent}/${queuedDuringPause}/${refused.length}`);
    // More frames waited than one burst holds: without the credit, some would be refused.
    expect(queuedDuringPause).toBeGreaterThan(2 * RATE);
    expect(refused).toEqual([]);
    expect(await roomMessages(server, 'paused-node')).toHaveLength(sent);
    await socket.close();
  });
});
