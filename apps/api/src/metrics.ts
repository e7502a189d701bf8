/**
 * The numbers `/metrics` serves, in Prometheus text format. Counters are plain fields bumped on
 * the hot path (no label lookups per message copy); labelled counts are keyed by a small set.
 */
const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

export class Metrics {
  openSockets = 0;
  messagesIn = 0;
  /** Copies of chat messages handed to sockets. */
  messagesOut = 0;
  slowConsumerCloses = 0;
  redisReconnects = 0;
  /** Django Channels bridge: messages from Django stored, and messages sent to Django. */
  djangoReceived = 0;
  djangoSent = 0;
  readonly djangoDrops = new Map<string, number>();
  readonly refusedFrames = new Map<string, number>();
  readonly httpPublishes = new Map<string, number>();
  private readonly latencyCounts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  private latencySum = 0;
  private latencyCount = 0;

  /** A message the Django bridge dropped, by reason (not msgpack, unknown type, over capacity...). */
  djangoDropped(reason: string): void {
    this.djangoDrops.set(reason, (this.djangoDrops.get(reason) ?? 0) + 1);
  }

  refused(code: string): void {
    this.refusedFrames.set(code, (this.refusedFrames.get(code) ?? 0) + 1);
  }

  /** Time from a message's store to its hand-off on this node, once per message per node. */
  observeFanOut(ms: number): void {
    const value = Math.max(0, ms);
    let bucket = LATENCY_BUCKETS_MS.findIndex((bound) => value <= bound);
    if (bucket === -1) bucket = LATENCY_BUCKETS_MS.length;
    this.latencyCounts[bucket]! += 1;
    this.latencySum += value;
    this.latencyCount += 1;
  }

  render(gauges: { rooms: number; backend: string; node: string }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: string[]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    metric('roomcast_open_sockets', 'gauge', 'Open chat WebSockets on this node.', [`roomcast_open_sockets ${this.openSockets}`]);
    metric('roomcast_rooms_active', 'gauge', 'Rooms with a socket on this node.', [`roomcast_rooms_active ${gauges.rooms}`]);
    metric('roomcast_messages_in_total', 'counter', 'Chat messages accepted on this node (sockets and HTTP).', [
      `roomcast_messages_in_total ${this.messagesIn}`,
    ]);
    metric('roomcast_messages_out_total', 'counter', 'Chat message copies handed to sockets on this node.', [
      `roomcast_messages_out_total ${this.messagesOut}`,
    ]);
    metric('roomcast_slow_consumer_closes_total', 'counter', 'Sockets closed with 1013 for falling behind.', [
      `roomcast_slow_consumer_closes_total ${this.slowConsumerCloses}`,
    ]);
    metric('roomcast_redis_reconnects_total', 'counter', 'Times the Redis connection came back.', [
      `roomcast_redis_reconnects_total ${this.redisReconnects}`,
    ]);
    metric(
      'roomcast_refused_frames_total',
      'counter',
      'Client frames refused, by error code.',
      [...this.refusedFrames].map(([code, count]) => `roomcast_refused_frames_total{code="${code}"} ${count}`),
    );
    metric('roomcast_django_received_total', 'counter', 'Messages from the Django channel layer stored on this node.', [
      `roomcast_django_received_total ${this.djangoReceived}`,
    ]);
    metric('roomcast_django_sent_total', 'counter', 'Messages sent from this node to Django groups.', [`roomcast_django_sent_total ${this.djangoSent}`]);
    metric(
      'roomcast_django_dropped_total',
      'counter',
      'Messages the Django bridge dropped, by reason.',
      [...this.djangoDrops].map(([reason, count]) => `roomcast_django_dropped_total{reason="${reason}"} ${count}`),
    );
    let cumulative = 0;
    const buckets = LATENCY_BUCKETS_MS.map((bound, index) => {
      cumulative += this.latencyCounts[index]!;
      return `roomcast_fanout_latency_ms_bucket{le="${bound}"} ${cumulative}`;
    });
    buckets.push(`roomcast_fanout_latency_ms_bucket{le="+Inf"} ${this.latencyCount}`);
    metric('roomcast_fanout_latency_ms', 'histogram', 'Milliseconds from a message being stored to its fan-out on this node.', [
      ...buckets,
      `roomcast_fanout_latency_ms_sum ${this.latencySum}`,
      `roomcast_fanout_latency_ms_count ${this.latencyCount}`,
    ]);
    metric('roomcast_backend_info', 'gauge', 'The backend this node runs on, and the node (one per worker process).', [
      `roomcast_backend_info{backend="${gauges.backend}",node="${gauges.node}"} 1`,
    ]);
    return `${lines.join('\n')}\n`;
  }
}
