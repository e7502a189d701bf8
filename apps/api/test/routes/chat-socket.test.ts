import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, sleep, startNode, type TestNode } from '../helpers.js';

describe('chat socket: rooms', () => {
  let node: TestNode;
  const sockets: TestSocket[] = [];
  const open = async (room: string, since?: string) => {
    const socket = await TestSocket.open(node.url, room, since === undefined ? {} : { since });
    sockets.push(socket);
    return socket;
  };

  beforeEach(async () => {
    node = await startNode();
  });
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await node.close();
  });

  it('delivers a message to everyone in the room and to no one in another room', async () => {
    const alice = await open('lobby');
    const bob = await open('lobby');
    const elsewhere = await open('kitchen');

    alice.send({ message: 'hello room' });
    const [atAlice] = await alice.waitForMessages(1);
    const [atBob] = await bob.waitForMessages(1);

    expect(atAlice).toMatchObject({ type: 'chat.message', room: 'lobby', user: null, message: 'hello room' });
    expect(atBob).toEqual(atAlice);
    expect(typeof atAlice!.id).toBe('string');
    expect(Math.abs(atAlice!.ts - Date.now())).toBeLessThan(60_000);
    // Give a stray delivery time to show up before asserting it did not.
    await sleep(200);
    expect(elsewhere.messages).toHaveLength(0);
  });

  it('echoes the nonce only in the sender’s own copy', async () => {
    const alice = await open('lobby');
    const bob = await open('lobby');
    alice.send({ type: 'chat.message', message: 'mine', nonce: 'n-1' });
    const [own] = await alice.waitForMessages(1);
    const [other] = await bob.waitForMessages(1);
    expect(own!.nonce).toBe('n-1');
    expect(other!.nonce).toBeUndefined();
    expect(other!.id).toBe(own!.id);
  });

  it('accepts the trailing-slash-free path too', async () => {
    const socket = new TestSocket(`${node.url.replace('http', 'ws')}/ws/chat/lobby`);
    sockets.push(socket);
    await socket.opened;
    await socket.waitFor((frame) => frame.type === 'presence');
  });
});
