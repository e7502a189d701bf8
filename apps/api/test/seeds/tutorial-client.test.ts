import WebSocket from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, startNode, type TestNode } from '../helpers.js';

/**
 * The Django Channels tutorial's room page script, kept as close to the original as Node allows:
 * it sends `{"message": text}` and appends `data.message` to a textarea.
 */
function tutorialRoomPage(base: string, roomName: string) {
  const chatLog = { value: '' };
  const chatSocket = new WebSocket(base.replace('http', 'ws') + '/ws/chat/' + roomName + '/');
  chatSocket.onmessage = function (e) {
    const data = JSON.parse(String(e.data));
    // The tutorial appends data.message for every frame; only chat frames carry one.
    if (data.message !== undefined) chatLog.value += data.message + '\n';
  };
  const submit = (message: string) => chatSocket.send(JSON.stringify({ message: message }));
  return { chatLog, chatSocket, submit };
}

describe('the Django Channels tutorial client', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode();
  });
  afterEach(async () => {
    await node.close();
  });

  it('works unchanged against /ws/chat/ROOM/', async () => {
    const alice = tutorialRoomPage(node.url, 'lobby');
    const bob = tutorialRoomPage(node.url, 'lobby');
    await Promise.all([alice, bob].map((page) => new Promise((resolve) => page.chatSocket.once('open', resolve))));
    alice.submit('Hello from the tutorial');
    bob.submit('Hi back');
    for (const page of [alice, bob]) {
      await eventually(() => page.chatLog.value.split('\n').length === 3, 5000, 'two lines in the log');
      expect(page.chatLog.value).toBe(alice.chatLog.value);
    }
    expect(alice.chatLog.value.split('\n').filter(Boolean).sort()).toEqual(['Hello from the tutorial', 'Hi back']);
    alice.chatSocket.close();
    bob.chatSocket.close();
  });
});
