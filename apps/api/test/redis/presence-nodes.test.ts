import type { PresenceFrame, RoomsList } from '@roomcast/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { TestSocket, eventually, type TestNode } from '../helpers.js';
import { STORES, loadConfig, spawnServer, startNodes, type ServerProcess, type Store } from './cluster-helpers.js';

const ROOM = 'lobby';

const lastPresence = (socket: TestSocket): PresenceFrame | undefined =>
  socket.frames.filter((frame): frame is PresenceFrame => frame.type === 'presence').at(-1);

/** The directory's rooms with someone online, as room and count (its entries also carry topic and members). */
const online = async (base: string): Promise<RoomsList['rooms']> =>
  ((await (await fetch(`${base}/rooms`)).json()) as RoomsList).rooms.map(({ room, online: count }) => ({ room, online: count }));

describe.each(STORES)('presence across nodes on %s', (_, startStore) => {
  let redis: Store | undefined;
  let nodes: TestNode[] = [];
  let child: ServerProcess | undefined;
  const sockets: TestSocket[] = [];
  const open = async (base: string): Promise<TestSocket> => {
    const socket = await TestSocket.open(base, ROOM);
    sockets.push(socket);
    return socket;
  };

  afterEach(async () => {
    await child?.kill();
    child = undefined;
    await Promise.allSettled(sockets.splice(0).map((socket) => socket.close()));
    await Promise.allSettled(nodes.map((node) => node.close()));
    nodes = [];
    await redis?.stop();
    redis = undefined;
  });

  it('shows users who joined on different nodes in every node’s presence frame', { timeout: 90_000 }, async () => {
    redis = await startStore();
    nodes = await startNodes(3, loadConfig(redis.redis));
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const watchers = [await open(a.url), await open(b.url), await open(c.url)];
    for (const watcher of watchers) await eventually(() => lastPresence(watcher)?.anonymous === 3, 10_000, 'three anonymous sockets');

    // Named users, at the Presence level (sockets are anonymous until they log in).
    await a.app.backend.presence.join(ROOM, 'member-on-a', 'alice');
    await b.app.backend.presence.join(ROOM, 'member-on-b', 'bob');
    await c.app.backend.presence.join(ROOM, 'member-on-c', 'alice');
    for (const watcher of watchers) {
      await eventually(() => lastPresence(watcher)?.users.length === 2, 10_000, 'alice and bob');
      expect(lastPresence(watcher)).toEqual({ type: 'presence', room: ROOM, users: ['alice', 'bob'], guests: [], anonymous: 3 });
    }
    for (const node of nodes) expect(await node.app.backend.presence.get(ROOM)).toEqual({ users: ['alice', 'bob'], guests: [], anonymous: 3 });
    for (const node of nodes) expect(await online(node.url)).toEqual([{ room: ROOM, online: 6 }]);

    await b.app.backend.presence.leave(ROOM, 'member-on-b');
    await watchers[2]!.close();
    for (const watcher of watchers.slice(0, 2)) {
      await eventually(() => lastPresence(watcher)?.anonymous === 2 && lastPresence(watcher)?.users.length === 1, 10_000, 'bob and one socket gone');
      expect(lastPresence(watcher)?.users).toEqual(['alice']);
    }
  });

  it('drops the sockets of a node killed with SIGKILL within 30 s, and the survivors announce it', async () => {
    redis = await startStore();
    nodes = await startNodes(1, loadConfig(redis.redis));
    const survivor = nodes[0]!;
    child = await spawnServer(redis.env);
    const watcher = await open(survivor.url);
    await open(child.url);
    await open(child.url);
    await eventually(() => lastPresence(watcher)?.anonymous === 3, 10_000, 'three sockets, two of them on the child');
    expect(await online(survivor.url)).toEqual([{ room: ROOM, online: 3 }]);

    const killedAt = Date.now();
    await child.kill('SIGKILL');
    await eventually(() => lastPresence(watcher)?.anonymous === 1, 30_000, 'the killed node’s sockets to leave presence');
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(lastPresence(watcher)).toEqual({ type: 'presence', room: ROOM, users: [], guests: [], anonymous: 1 });
    expect(await online(survivor.url)).toEqual([{ room: ROOM, online: 1 }]);
    expect(await survivor.app.backend.presence.get(ROOM)).toEqual({ users: [], guests: [], anonymous: 1 });
  }, 90_000);
});
