import { afterEach } from 'vitest';
import { TestSocket, startNode, startRedis, type SocketOptions, type TestNode, type TestRedis } from '../helpers.js';

/**
 * Nodes, sockets and a private Redis that a test starts, all stopped after it: sockets first,
 * then nodes, then Redis.
 */
export function useFixtures() {
  const nodes: TestNode[] = [];
  const sockets: TestSocket[] = [];
  let redis: TestRedis | undefined;
  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    await Promise.all(nodes.splice(0).map((node) => node.close()));
    await redis?.stop();
    redis = undefined;
  });
  return {
    async start(overrides: Parameters<typeof startNode>[0] = {}): Promise<TestNode> {
      const node = await startNode(overrides);
      nodes.push(node);
      return node;
    },
    /** A Redis for this test (one per test). */
    async redisUrl(): Promise<string> {
      redis ??= await startRedis();
      return redis.url;
    },
    async open(node: TestNode, room: string, options: SocketOptions = {}): Promise<TestSocket> {
      const socket = await TestSocket.open(node.url, room, options);
      sockets.push(socket);
      return socket;
    },
    /** Closed after the test (a socket the test started without waiting for it). */
    track(socket: TestSocket): TestSocket {
      sockets.push(socket);
      return socket;
    },
  };
}
