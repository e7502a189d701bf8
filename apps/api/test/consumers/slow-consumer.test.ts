import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, startNode, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

/** Big texts fill the kernel's buffers (a few MB on loopback) in a bounded number of messages. */
const TEXT = 'x'.repeat(3900);
/** Upper bound on what the test sends: ~16 MB, more than loopback buffers hold. */
const MAX_MESSAGES = 4000;
const BATCH = 50;
const HIGH_WATER_BYTES = 64 * 1024;

/** The TCP socket under a `ws` client: pausing it makes a reader that stops reading. */
const tcpOf = (socket: TestSocket): Socket => (socket.ws as unknown as { _socket: Socket })._socket;

describe('slow consumer', () => {
  let node: TestNode;
  const sockets: TestSocket[] = [];
  const open = async (options: { since?: string } = {}): Promise<TestSocket> => {
    const socket = await TestSocket.open(node.url, 'slow-room', options);
    sockets.push(socket);
    return socket;
  };

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await node?.close();
  });

  it('closes a reader that stops reading with 1013 while the room goes on, and it resumes with nothing lost', async () => {
    // Its resume replays megabytes: above the default cap on one resume's replay.
    node = await startNode({ slowConsumerBytes: HIGH_WATER_BYTES, historyLimit: 10_000, ...UNLIMITED_SENDS, resumeMaxBytes: 64 * 1024 * 1024 });
    const sender = await open();
    const reader = await open();
    const slow = await open();

    // A first message everyone has, so the slow one knows where it stood.
    sender.send({ message: 'before' });
    await slow.waitForMessages(1);
    await reader.waitForMessages(1);
    tcpOf(slow).pause();

    // Traffic in batches until the server gives up on the slow one; the others keep up throughout.
    let sent = 1;
    while (node.app.metrics.slowConsumerCloses === 0 && sent < MAX_MESSAGES) {
      for (let index = 0; index < BATCH; index += 1) sender.send({ message: `${sent + index} ${TEXT}` });
      sent += BATCH;
      await reader.waitForMessages(sent, 30_000);
    }
    expect(node.app.metrics.slowConsumerCloses).toBe(1);

    // One more batch after the close: the room still gets everything.
    for (let index = 0; index < BATCH; index += 1) sender.send({ message: `${sent + index} ${TEXT}` });
    sent += BATCH;
    const everything = await reader.waitForMessages(sent, 30_000);
    expect(everything.map((message) => message.message.split(' ')[0])).toEqual([
      'before',
      ...Array.from({ length: sent - 1 }, (_, index) => String(index + 1)),
    ]);

    // The slow reader reads again: what was queued for it, then the 1013 close.
    tcpOf(slow).resume();
    expect((await slow.closed).code).toBe(1013);
    const got = slow.messages;
    expect(got.length).toBeLessThan(sent);
    expect(got).toEqual(everything.slice(0, got.length));

    // It comes back from where it stopped and misses nothing, duplicates nothing.
    const back = await open({ since: got.at(-1)!.id });
    const recovered = await back.waitFor((frame) => frame.type === 'recovered', 'the recovered frame', 30_000);
    expect(recovered).toEqual({ type: 'recovered', complete: true });
    await eventually(() => back.messages.length === sent - got.length, 15_000, 'the missed messages');
    expect([...got, ...back.messages].map((message) => message.id)).toEqual(everything.map((message) => message.id));
  });
});
