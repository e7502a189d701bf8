import cluster from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * Under `WORKERS`, node:cluster hands a `/metrics` request to whichever worker it likes, so that
 * worker asks the primary, and the primary gathers every worker's registries with prom-client's
 * AggregatorRegistry (counters and gauges summed; series that differ by label, such as each
 * worker's `roomcast_backend_info`, kept apart). One scrape then answers for all workers.
 */

const REQUEST = 'roomcast:metrics-request';
const RESPONSE = 'roomcast:metrics-response';
/** prom-client gives up on a worker that does not answer after 5 s; the asking worker waits a little longer. */
const ANSWER_TIMEOUT_MS = 6000;

interface MetricsRequest {
  type: typeof REQUEST;
  id: number;
}
interface MetricsResponse {
  type: typeof RESPONSE;
  id: number;
  text?: string;
  error?: string;
}

const isMessage = <T extends { type: string }>(message: unknown, type: T['type']): message is T =>
  typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;

/** In the primary: answers each worker's request with the metrics of all workers. */
export function serveClusterMetrics(): void {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage<MetricsRequest>(message, REQUEST)) return;
    const answer = (response: Omit<MetricsResponse, 'type' | 'id'>): void => {
      if (worker.isConnected()) worker.send({ type: RESPONSE, id: message.id, ...response } satisfies MetricsResponse);
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ text }),
      (error: unknown) => answer({ error: error instanceof Error ? error.message : String(error) }),
    );
  });
}

export interface WorkerMetrics {
  /** The registries this worker contributes when the primary asks (replaces the previous ones). */
  offer(registries: Registry[]): void;
  /** Asks the primary for the whole cluster's metrics, in Prometheus text format. */
  scrape(): Promise<string>;
}

/**
 * In a worker, at start-up, before its app exists: the primary asks every connected worker, so
 * a worker must answer from its first moment, with the process metrics until its app is built.
 */
export function joinClusterMetrics(): WorkerMetrics {
  // Constructing one installs prom-client's listener that answers the primary in this worker.
  new AggregatorRegistry();
  const pending = new Map<number, (response: MetricsResponse) => void>();
  let nextId = 0;
  process.on('message', (message: unknown) => {
    if (isMessage<MetricsResponse>(message, RESPONSE)) pending.get(message.id)?.(message);
  });
  return {
    offer: (registries) => AggregatorRegistry.setRegistries(registries),
    scrape: () => {
      const id = nextId++;
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`the primary process did not answer within ${ANSWER_TIMEOUT_MS} ms`));
        }, ANSWER_TIMEOUT_MS);
        pending.set(id, (response) => {
          clearTimeout(timer);
          pending.delete(id);
          if (response.text !== undefined) resolve(response.text);
          else reject(new Error(response.error ?? 'no metrics'));
        });
        process.send?.({ type: REQUEST, id } satisfies MetricsRequest);
      });
    },
  };
}
