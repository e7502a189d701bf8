import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { roomMessagesPath } from '@roomcast/protocol';

/**
 * Posts `perRoom` messages a second to each room over HTTP with an API key, rooms spread evenly
 * over each second, on a few kept-alive connections, until stopped: the background traffic of
 * the storm. Counts what was posted and what failed.
 */
export class HttpSender {
  posted = 0;
  /** Why posts failed: an answer's status and error code, or the request's error. */
  readonly failures = new Map<string, number>();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private sent = 0;

  constructor(
    private readonly port: number,
    private readonly apiKey: string,
    private readonly rooms: string[],
    private readonly perRoom: number,
  ) {}

  start(): void {
    const started = performance.now();
    const perSecond = this.rooms.length * this.perRoom;
    this.timer = setInterval(() => {
      const due = Math.floor(((performance.now() - started) / 1000) * perSecond);
      while (this.sent < due) {
        const room = this.rooms[this.sent % this.rooms.length]!;
        this.sent += 1;
        const post = this.post(room, `storm ${this.sent}`).then(
          (failure) => (failure === undefined ? void (this.posted += 1) : this.fail(failure)),
          (error: unknown) => this.fail(error instanceof Error ? error.message : String(error)),
        );
        this.inFlight.add(post);
        void post.finally(() => this.inFlight.delete(post));
      }
    }, 20);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all([...this.inFlight]);
    this.agent.destroy();
  }

  get failed(): number {
    let count = 0;
    for (const times of this.failures.values()) count += times;
    return count;
  }

  private fail(reason: string): void {
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }

  /** Why failures happened, for a result's error: "2 x 503 unavailable". */
  describeFailures(): string {
    return [...this.failures].map(([reason, count]) => `${count} x ${reason}`).join(', ');
  }

  /** Resolves undefined once stored (201), else with the status and the body's `code`. */
  private post(room: string, message: string): Promise<string | undefined> {
    const body = JSON.stringify({ message });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.agent,
          host: '127.0.0.1',
          port: this.port,
          method: 'POST',
          path: roomMessagesPath(room),
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: `Bearer ${this.apiKey}` },
        },
        (response) => {
          let answer = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (answer += chunk));
          response.on('end', () => {
            if (response.statusCode === 201) return resolve(undefined);
            const code = /"code"\s*:\s*"([a-z_]+)"/.exec(answer)?.[1] ?? answer.slice(0, 80);
            resolve(`${response.statusCode} ${code}`);
          });
        },
      );
      req.setTimeout(10_000, () => req.destroy(new Error('POST timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
