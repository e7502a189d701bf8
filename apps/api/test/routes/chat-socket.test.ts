import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, refusedUpgrade, sleep, startNode, type TestNode, UNLIMITED_SENDS } from '../helpers.js';

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

  it('answers a ping frame with a pong, so a browser can tell a live link from a dead one', async () => {
    const socket = await open('lobby');
    socket.send({ type: 'ping' });
    expect(await socket.waitFor((frame) => frame.type === 'pong', 'a pong')).toEqual({ type: 'pong' });
  });

  it('accepts the trailing-slash-free path too', async () => {
    const socket = new TestSocket(`${node.url.replace('http', 'ws')}/ws/chat/lobby`);
    sockets.push(socket);
    await socket.opened;
    await socket.waitFor((frame) => frame.type === 'presence');
  });
});

describe('chat socket: order under load', () => {
  let node: TestNode;
  beforeEach(async () => {
    node = await startNode({ ...UNLIMITED_SENDS });
  });
  afterEach(async () => {
    await node.close();
  });

  it('gets 1,000 messages from 10 concurrent senders to all 20 subscribers in one order, none lost or doubled', async () => {
    const subscribers = await Promise.all(Array.from({ length: 20 }, () => TestSocket.open(node.url, 'busy')));
    const senders = await Promise.all(Array.from({ length: 10 }, () => TestSocket.open(node.url, 'busy')));
    senders.forEach((sender, s) => {
      for (let i = 0; i < 100; i += 1) sender.send({ type: 'chat.message', message: `s${s}-m${i}`, nonce: `s${s}-${i}` });
    });

    const reference = (await subscribers[0]!.waitForMessages(1000, 30_000)).map((message) => message.id);
    expect(new Set(reference).size).toBe(1000);
    for (const subscriber of subscribers) {
      const ids = (await subscriber.waitForMessages(1000, 30_000)).map((message) => message.id);
      expect(ids).toEqual(reference);
    }
    // Each sender's own messages keep the order it sent them in.
    const texts = subscribers[0]!.messages.map((message) => message.message);
    for (let s = 0; s < 10; s += 1) {
      const own = texts.filter((text) => text.startsWith(`s${s}-`));
      expect(own).toEqual(Array.from({ length: 100 }, (_, i) => `s${s}-m${i}`));
    }
    await Promise.all([...subscribers, ...senders].map((socket) => socket.close()));
  });
});

describe('chat socket: resume with since', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('sends exactly the missed messages, then recovered, then live ones', async () => {
    node = await startNode({ ...UNLIMITED_SENDS });
    const poster = await TestSocket.open(node.url, 'resume');
    const reader = await TestSocket.open(node.url, 'resume');
    poster.send({ message: 'before the drop' });
    const [seen] = await reader.waitForMessages(1);
    await reader.close();

    for (let i = 0; i < 50; i += 1) poster.send({ message: `missed ${i}` });
    await poster.waitForMessages(51);

    const back = TestSocket.connect(node.url, 'resume', { since: seen!.id });
    await back.waitFor((frame) => frame.type === 'recovered', 'recovered');
    poster.send({ message: 'live again' });
    await back.waitForMessages(51);

    const recoveredAt = back.frames.findIndex((frame) => frame.type === 'recovered');
    const replayed = back.frames.slice(0, recoveredAt).filter((frame) => frame.type === 'chat.message');
    expect(replayed.map((frame) => (frame.type === 'chat.message' ? frame.message : ''))).toEqual(
      Array.from({ length: 50 }, (_, i) => `missed ${i}`),
    );
    expect(back.frames[recoveredAt]).toEqual({ type: 'recovered', complete: true });
    expect(back.messages.at(-1)!.message).toBe('live again');
    expect(new Set(back.messages.map((message) => message.id)).size).toBe(51);
    await Promise.all([poster.close(), back.close()]);
  });

  it('says complete:false when since is older than the kept history', async () => {
    node = await startNode({ ...UNLIMITED_SENDS, historyLimit: 20 });
    const poster = await TestSocket.open(node.url, 'short');
    poster.send({ message: 'first' });
    const [first] = await poster.waitForMessages(1);
    for (let i = 0; i < 30; i += 1) poster.send({ message: `more ${i}` });
    await poster.waitForMessages(31);

    const back = TestSocket.connect(node.url, 'short', { since: first!.id });
    const recovered = await back.waitFor((frame) => frame.type === 'recovered', 'recovered');
    expect(recovered).toEqual({ type: 'recovered', complete: false });
    expect(back.messages.map((message) => message.message)).toEqual(Array.from({ length: 20 }, (_, i) => `more ${i + 10}`));
    await Promise.all([poster.close(), back.close()]);
  });

  it('refuses a malformed since before the upgrade', async () => {
    node = await startNode();
    const socket = TestSocket.connect(node.url, 'lobby', { since: 'yesterday' });
    await expect(socket.opened).rejects.toThrow('400');
  });
});

describe('chat socket: hostile input', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('answers each bad frame with its error and never disturbs the others in the room', async () => {
    node = await startNode({ socketRate: 20 });
    const watcher = await TestSocket.open(node.url, 'lobby');
    const poster = await TestSocket.open(node.url, 'lobby');
    const hostile = await TestSocket.open(node.url, 'lobby');
    let posted = 0;
    const post = () => {
      poster.send({ message: `normal ${posted}` });
      posted += 1;
    };

    const errorCount = () => hostile.frames.filter((frame) => frame.type === 'error').length;
    const expectError = async (frame: unknown, code: string) => {
      const before = errorCount();
      hostile.send(frame);
      const error = await hostile.waitFor(
        (candidate) => candidate.type === 'error' && hostile.frames.filter((f) => f.type === 'error').length > before,
        `error ${code}`,
      );
      expect(error).toMatchObject({ type: 'error', code });
      post();
    };

    await expectError('this is not json', 'invalid_frame');
    await expectError('[1,2,3]', 'invalid_frame');
    await expectError({ message: 42 }, 'invalid_frame');
    await expectError({ message: '' }, 'invalid_frame');
    await expectError({ type: 'chat.message', message: ['a'], nonce: 'n-bad' }, 'invalid_frame');
    await expectError({ type: 'dance' }, 'unknown_type');
    await expectError({ type: 7, message: 'x' }, 'invalid_frame');
    await expectError({ message: 'x'.repeat(4001), nonce: 'n-long' }, 'too_long');
    expect(hostile.frames.filter((frame) => frame.type === 'error').at(-1)).toMatchObject({ nonce: 'n-long' });
    hostile.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await hostile.waitFor((frame) => frame.type === 'error' && frame.reason.includes('binary'), 'binary refusal');

    // 500 frames in one second: the burst allowance passes, the rest are refused with rate_limited.
    for (let i = 0; i < 500; i += 1) hostile.send({ type: 'chat.message', message: `flood ${i}`, nonce: `f${i}` });
    await eventually(() => hostile.frames.filter((frame) => frame.type === 'error' && frame.code === 'rate_limited').length >= 400);
    const limited = hostile.frames.find((frame) => frame.type === 'error' && frame.code === 'rate_limited');
    expect(limited).toMatchObject({ nonce: expect.stringMatching(/^f\d+$/), retryAfterMs: expect.any(Number) });
    post();

    // A 1 MiB frame closes only that socket, with 1009.
    hostile.send('x'.repeat(1024 * 1024));
    expect((await hostile.closed).code).toBe(1009);
    post();

    await eventually(() => watcher.messages.filter((message) => message.message.startsWith('normal')).length === posted);
    const normal = watcher.messages.filter((message) => message.message.startsWith('normal')).map((message) => message.message);
    expect(normal).toEqual(Array.from({ length: posted }, (_, i) => `normal ${i}`));
    await Promise.all([watcher.close(), poster.close()]);
  });
});

describe('chat socket: presence', () => {
  let node: TestNode;
  afterEach(async () => {
    await node.close();
  });

  it('lists joiners, drops leavers, and GET /rooms shows online counts', async () => {
    node = await startNode();
    const first = await TestSocket.open(node.url, 'lobby');
    expect(first.frames.at(-1)).toEqual({ type: 'presence', room: 'lobby', users: [], guests: [], anonymous: 1 });
    const second = await TestSocket.open(node.url, 'lobby');
    await first.waitFor((frame) => frame.type === 'presence' && frame.anonymous === 2, 'two present');
    const third = await TestSocket.open(node.url, 'kitchen');

    const rooms = await (await fetch(`${node.url}/rooms`)).json();
    expect(rooms).toMatchObject({ rooms: [{ room: 'lobby', online: 2 }, { room: 'kitchen', online: 1 }] });

    await second.close();
    await first.waitFor((frame) => frame.type === 'presence' && frame.anonymous === 1 && first.frames.some((f) => f.type === 'presence' && f.anonymous === 2), 'leaver dropped');
    await third.close();
    await eventually(async () => {
      const body = (await (await fetch(`${node.url}/rooms`)).json()) as { rooms: Array<{ room: string; online: number }> };
      return JSON.stringify(body.rooms.map(({ room, online }) => ({ room, online }))) === JSON.stringify([{ room: 'lobby', online: 1 }]);
    });
    await first.close();
  });

  it('tells a joiner who is there at once, without waiting for the room’s coalesced frame', async () => {
    // An interval of a minute: only the greeting can bring the second joiner its presence in time.
    node = await startNode({ presenceIntervalMs: 60_000 });
    const first = await TestSocket.open(node.url, 'lobby');
    await sleep(200);
    const before = first.frames.filter((frame) => frame.type === 'presence').length;
    const second = TestSocket.connect(node.url, 'lobby', { query: { name: 'rosa' } });
    await second.waitFor((frame) => frame.type === 'presence', 'the joiner’s own presence', 3000);
    expect(second.frames.find((frame) => frame.type === 'presence')).toEqual({ type: 'presence', room: 'lobby', users: [], guests: ['rosa'], anonymous: 2 });
    // The one already there waits for the room's next frame: nothing is sent to the room per join.
    await sleep(200);
    expect(first.frames.filter((frame) => frame.type === 'presence')).toHaveLength(before);
    await Promise.all([first.close(), second.close()]);
  });

  it('refuses an invalid room name at the upgrade with 400 invalid_room', async () => {
    node = await startNode();
    for (const room of ['no%20spaces', 'semi;colon', 'x'.repeat(65)]) {
      const refusal = await refusedUpgrade(`${node.url}/ws/chat/${room}/`);
      expect(refusal).toEqual({ status: 400, body: { error: expect.any(String), code: 'invalid_room' } });
    }
  });
});
