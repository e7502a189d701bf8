import { SUBPROTOCOL } from '@roomcast/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, sleep, startNode, type TestNode } from '../helpers.js';

/**
 * A client that offers `roomcast.v1` gets every frame; one that offers none (the Django
 * tutorial's page, which appends `data.message` for each frame) gets only chat messages, and
 * error frames that carry their reason as `message`.
 */
describe('the roomcast.v1 subprotocol', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode({ socketRate: 0 });
  });
  afterEach(async () => {
    await node.close();
  });

  it('is agreed with a client that offers it, and none is with a client that offers none', async () => {
    const full = await TestSocket.open(node.url, 'lobby');
    expect(full.ws.protocol).toBe(SUBPROTOCOL);
    const plain = TestSocket.connect(node.url, 'lobby', { protocols: [] });
    await plain.opened;
    expect(plain.ws.protocol).toBe('');
    await Promise.all([full.close(), plain.close()]);
  });

  it('sends a client without it only frames that carry a message, while others see presence and typing', async () => {
    const tutorial = TestSocket.connect(node.url, 'lobby', { protocols: [] });
    await tutorial.opened;
    const full = await TestSocket.open(node.url, 'lobby');
    const other = await TestSocket.open(node.url, 'lobby');
    full.send({ type: 'typing' });
    full.send({ message: 'hello' });
    tutorial.send({ message: 'hi back' });
    tutorial.send('not json');
    await other.close();
    await eventually(() => tutorial.raw.length >= 3, 5000, 'two chat frames and an error');
    await full.waitFor((frame) => frame.type === 'presence' && frame.anonymous === 2, 'presence after the leave');
    await sleep(300);

    const frames = tutorial.raw.map((text) => JSON.parse(text) as Record<string, unknown>);
    expect(frames.map((frame) => frame.type)).toEqual(['chat.message', 'chat.message', 'error']);
    expect(frames.map((frame) => frame.message)).toEqual(['hello', 'hi back', frames[2]!.reason]);
    expect(typeof frames[2]!.message).toBe('string');
    // The full client saw what the tutorial client was spared, and no `message` on its error frames.
    expect(other.frames.some((frame) => frame.type === 'typing')).toBe(true);
    expect(full.frames.filter((frame) => frame.type === 'presence').length).toBeGreaterThanOrEqual(2);
    full.send('not json');
    const error = await full.waitFor((frame) => frame.type === 'error', 'an error frame');
    expect(error).not.toHaveProperty('message');
    await Promise.all([tutorial.close(), full.close()]);
  });

  it('resumes a client without it with chat messages only, no recovered frame', async () => {
    const writer = await TestSocket.open(node.url, 'lobby');
    writer.send({ message: 'first' });
    const first = await writer.waitFor((frame) => frame.type === 'chat.message', 'first');
    writer.send({ message: 'second' });
    await writer.waitFor((frame) => frame.type === 'chat.message' && frame.message === 'second', 'second');
    const resumed = TestSocket.connect(node.url, 'lobby', { protocols: [], since: (first as { id: string }).id });
    await eventually(() => resumed.raw.length >= 1, 5000, 'the resumed message');
    await sleep(300);
    expect(resumed.raw.map((text) => JSON.parse(text).message)).toEqual(['second']);
    await Promise.all([writer.close(), resumed.close()]);
  });
});
