import { connect, createServer, type Socket } from 'node:net';

/** A network link a test can break the ways real networks break. */
export interface Link {
  /** `http://127.0.0.1:PORT` of the link: point clients here. */
  url: string;
  /** Stops forwarding one way (bytes are swallowed), as a dying link does; `restore` ends it. */
  hold(direction: 'up' | 'down'): void;
  /** Resets every open connection at the TCP level (no close frame); new ones go through. */
  drop(): void;
  /** Drops every open connection and refuses new ones until `restore`: the network is gone. */
  down(): void;
  /** Lets everything through again. */
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 in front of `targetPort`. */
export async function startLink(targetPort: number): Promise<Link> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let held: 'up' | 'down' | undefined;
  let isDown = false;
  const server = createServer((client) => {
    if (isDown) {
      client.destroy();
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    client.on('data', (chunk) => held !== 'up' && upstream.write(chunk));
    upstream.on('data', (chunk) => held !== 'down' && client.write(chunk));
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('close', end);
      socket.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('the link did not listen');
  const drop = (): void => {
    for (const { client, upstream } of pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    pairs.clear();
    held = undefined;
  };
  return {
    url: `http://127.0.0.1:${address.port}`,
    hold(direction) {
      held = direction;
    },
    drop,
    down() {
      isDown = true;
      drop();
    },
    restore() {
      isDown = false;
      held = undefined;
    },
    async close() {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
