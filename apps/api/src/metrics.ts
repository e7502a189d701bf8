import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Why the edge refused: an address over its connection cap, a request too slow to arrive (408),
 * the password gate full (503 busy) or a client over its share of it (429).
 */
export type EdgeRefusal = 'connections_per_address' | 'request_timeout' | 'password_gate_full' | 'password_gate_per_address';

/** A series' Prometheus name and help text. */
type Spec = readonly [name: string, help: string];

/**
 * Roomcast's counters: the field the code bumps, and the Prometheus series it is served as.
 * Adding one is one line here; the field then exists on `Metrics` (`metrics.bansTotal += 1`).
 * They are plain number fields bumped on the hot path (once per message copy) and read into
 * prom-client only when scraped.
 */
const COUNTERS = {
  messagesIn: ['roomcast_messages_in_total', 'Chat messages accepted on this node (sockets and HTTP).'],
  messagesOut: ['roomcast_messages_out_total', 'Chat message copies handed to sockets on this node.'],
  slowConsumerCloses: ['roomcast_slow_consumer_closes_total', 'Sockets closed with 1013 for falling behind.'],
  redisReconnects: ['roomcast_redis_reconnects_total', 'Times the Redis connection came back.'],
  djangoReceived: ['roomcast_django_received_total', 'Messages from the Django channel layer stored on this node.'],
  djangoSent: ['roomcast_django_sent_total', 'Messages sent from this node to Django groups.'],
} as const satisfies Record<string, Spec>;

/** Gauges kept the same way: a field the code sets, read when scraped. */
const GAUGES = {
  openSockets: ['roomcast_open_sockets', 'Open chat WebSockets on this node.'],
} as const satisfies Record<string, Spec>;

type Counts = { -readonly [K in keyof typeof COUNTERS | keyof typeof GAUGES]: number };

const FANOUT_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** What the app knows only at scrape time. */
export interface NodeGauges {
  rooms: number;
  backend: string;
  node: string;
}

/** A series whose value is read from `read()` each time it is scraped. */
function readAtScrape(registers: Registry[], kind: 'counter' | 'gauge', [name, help]: Spec, read: () => number): void {
  if (kind === 'gauge') {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
    return;
  }
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

// The fields of COUNTERS and GAUGES are declared on the class by merging with this interface.
export interface Metrics extends Counts {}

/**
 * One app's metrics, in its own prom-client registry (tests run several apps in one process).
 * `/metrics` serves it together with the process's default metrics (`processRegistry`).
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly refusedFrames: Counter<'code'>;
  private readonly edgeRefusals: Counter<'reason'>;
  private readonly djangoDrops: Counter<'reason'>;
  private readonly fanOut: Histogram;
  private nodeGauges: () => NodeGauges = () => ({ rooms: 0, backend: 'none', node: 'none' });
  /** Under WORKERS: the whole cluster's metrics, gathered by the primary. */
  private clusterScrape: (() => Promise<string>) | undefined;

  constructor() {
    const registers = [this.registry];
    const fields = (specs: Record<string, Spec>) => Object.entries(specs) as [keyof Counts, Spec][];
    for (const [field, spec] of fields(COUNTERS)) {
      this[field] = 0;
      readAtScrape(registers, 'counter', spec, () => this[field]);
    }
    for (const [field, spec] of fields(GAUGES)) {
      this[field] = 0;
      readAtScrape(registers, 'gauge', spec, () => this[field]);
    }
    readAtScrape(registers, 'gauge', ['roomcast_rooms_active', 'Rooms with a socket on this node.'], () => this.nodeGauges().rooms);
    this.refusedFrames = new Counter({ name: 'roomcast_refused_frames_total', help: 'Client frames refused, by error code.', labelNames: ['code'], registers });
    this.djangoDrops = new Counter({
      name: 'roomcast_django_dropped_total',
      help: 'Messages the Django bridge dropped, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.edgeRefusals = new Counter({
      name: 'roomcast_edge_refusals_total',
      help: 'Connections and requests refused at the network edge, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.fanOut = new Histogram({
      name: 'roomcast_fanout_latency_ms',
      help: 'Milliseconds from a message being stored to its fan-out on this node.',
      buckets: FANOUT_BUCKETS_MS,
      registers,
    });
    const nodeGauges = () => this.nodeGauges();
    new Gauge({
      name: 'roomcast_backend_info',
      help: 'The backend this node runs on, and the node (one per worker process).',
      labelNames: ['backend', 'node'],
      registers,
      collect() {
        const { backend, node } = nodeGauges();
        this.reset();
        this.set({ backend, node }, 1);
      },
    });
  }

  refused(code: string): void {
    this.refusedFrames.inc({ code });
  }

  refusedAtEdge(reason: EdgeRefusal): void {
    this.edgeRefusals.inc({ reason });
  }

  /** A message the Django bridge dropped, by reason (not msgpack, unknown type, over capacity...). */
  djangoDropped(reason: string): void {
    this.djangoDrops.inc({ reason });
  }

  /** Time from a message's store to its hand-off on this node, once per message per node. */
  observeFanOut(ms: number): void {
    this.fanOut.observe(Math.max(0, ms));
  }

  /** Where the gauges that only the app knows (rooms, backend, node) are read from. */
  readNodeGauges(source: () => NodeGauges): void {
    this.nodeGauges = source;
  }

  /** Serve the metrics of every worker (gathered by the primary) instead of this process's. */
  aggregateWith(clusterScrape: () => Promise<string>): void {
    this.clusterScrape = clusterScrape;
  }

  /** The registries of this process: its default metrics and this app's. */
  registries(): Registry[] {
    return [processRegistry(), this.registry];
  }

  /** What `/metrics` answers, in Prometheus text format: this process's, or the whole cluster's. */
  render(): Promise<string> {
    return this.clusterScrape ? this.clusterScrape() : Registry.merge(this.registries()).metrics();
  }
}

let defaults: Registry | undefined;

/**
 * prom-client's default metrics of this process (CPU, memory, heap, event loop lag, GC, handles),
 * collected once per process however many apps it runs.
 */
export function processRegistry(): Registry {
  if (defaults === undefined) {
    defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
  }
  return defaults;
}

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
