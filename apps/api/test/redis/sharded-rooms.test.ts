import { describe, expect, it } from 'vitest';
import { roomGroup } from '../../src/layer/channel-layer.js';
import { groupChannel } from '../../src/redis/keys.js';
import { TestSocket } from '../helpers.js';
import { ids, readHistory } from './cluster-helpers.js';
import { redisClusterPerFile, roomsOnEveryMaster } from './sharded-rooms-helpers.js';

const ROOMS_PER_MASTER = 10; // 3 masters: 30 rooms
const MESSAGES_PER_ROOM = 100; // 3,000 in all

describe('three Roomcast nodes on a Redis Cluster of three masters', () => {
  const env = redisClusterPerFile();

  it('gets 3,000 messages in 30 rooms spread over every master, from senders on every node, to every socket in one order per room: the stored one', async () => {
    const { cluster, admin } = env;
    const byMaster = await roomsOnEveryMaster(cluster, admin, 'shard', ROOMS_PER_MASTER);
    expect([...byMaster.values()].map((rooms) => rooms.length)).toEqual([ROOMS_PER_MASTER, ROOMS_PER_MASTER, ROOMS_PER_MASTER]);
    const rooms = [...byMaster.values()].flat();
    const nodes = await env.startNodes(3);

    // One socket per room on every node; each sends its third of the room's messages.
    const inRoom = new Map<string, TestSocket[]>();
    for (const room of rooms) {
      const members: TestSocket[] = [];
      for (const node of nodes) members.push(await TestSocket.open(node.url, room));
      env.track(members);
      inRoom.set(room, members);
    }
    for (const [room, members] of inRoom) {
      for (let n = 0; n < MESSAGES_PER_ROOM; n += 1) {
        members[n % 3]!.send({ type: 'chat.message', message: `${room} from node ${n % 3} #${n}`, nonce: `${room}-${n}` });
      }
    }

    for (const [room, members] of inRoom) {
      const received = await Promise.all(members.map((socket) => socket.waitForMessages(MESSAGES_PER_ROOM, 90_000)));
      const stored = await readHistory(nodes[0]!.url, room);
      expect(stored).toHaveLength(MESSAGES_PER_ROOM);
      expect(new Set(stored.map((message) => message.message)).size).toBe(MESSAGES_PER_ROOM);
      for (const messages of received) expect(ids(messages)).toEqual(ids(stored));
      expect(stored.every((message) => message.room === room)).toBe(true);
    }
    // Each node subscribed once per room, on the room's own master (sharded pub/sub).
    for (const [master, masterRooms] of byMaster) {
      const reply = await cluster.cli(master, 'PUBSUB', 'SHARDNUMSUB', groupChannel(roomGroup(masterRooms[0]!)));
      expect(reply.split('\n').map((line) => line.trim())[1]).toBe('3');
    }
    // And nothing else arrived afterwards (no duplicate, no stray room).
    for (const [, members] of inRoom) for (const socket of members) expect(socket.messages).toHaveLength(MESSAGES_PER_ROOM);
  }, 180_000);
});
