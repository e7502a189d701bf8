import { get } from 'node:http';
import { performance } from 'node:perf_hooks';
import { backoffDelay } from '@roomcast/client';
import { HISTORY_PAGE_MAX, chatSocketPath, roomMessagesPath } from '@roomcast/protocol';
import { nowUs } from '../fleet.js';
import { Meter } from '../meter.js';
import { peakRssBytes, sleep } from '../procs.js';
import { RawSocket } from '../raw-client.js';
import type { ServerUnderTest } from '../servers.js';
import { HttpSender } from './http-sender.js';

/**
 * Scenario 6, the reconnect storm: SOCKETS sockets in ROOMS rooms on node A while a sender keeps
 * posting (over HTTP, to node B); A gets SIGTERM and closes them all (1012); every client
 * reconnects to B with `since` after @roomcast/client's backoff with jitter, as the SPA does.
 * Measured: the time from the signal until every socket has `recovered` with `complete: true`,
 * B's CPU per resume over that time and its peak resident memory; then every socket's message
 * IDs are checked against the room's history on B (nothing missing, nothing twice). The bare
 * server takes the same reconnects with no resume: the time until all are open again.
 */
export const STORM_SOCKETS = Number(process.env.BENCH_STORM_SOCKETS ?? 10_000);
export const STORM_ROOMS = Math.max(1, Math.round(STORM_SOCKETS / 50));
/** Messages a second per room the sender posts throughout. */
const SEND_RATE_PER_ROOM = 1;
const CONNECT_BATCH = 250;
const STORM_TIMEOUT_MS = 90_000;

export interface StormResult {
  label: string;
  sockets: number;
  rooms: number;
  /** From the signal until node A had closed the last socket. */
  closedSeconds: number;
  /** From the signal until every socket was back (and, on Roomcast, recovered complete). */
  seconds: number;
  back: number;
  /** Roomcast: sockets whose `recovered` said complete: false. */
  incomplete: number;
  /** Upgrades refused or failed on the way back (each retried after its backoff), and why. */
  retries: number;
  refusals: Record<string, number>;
  survivorCpuSeconds: number;
  survivorCpuUsPerReconnect: number;
  survivorPeakRssBytes: number;
  /** Over the storm, percent of one core: the survivor's and the load generator's (which reads every replayed frame); and the share of all cores busy. */
  survivorCpuPercent?: number;
  generatorCpuPercent?: number;
  machineBusyPercent?: number;
  /** Roomcast: message IDs checked (each socket against its room's history), those a socket never got, and IDs it got twice. */
  checked: number;
  missing: number;
  duplicates: number;
  messagesPosted: number;
  error?: string;
}

const ID_KEY = Buffer.from('"id":"');
const RECOVERED = Buffer.from('"type":"recovered"');
const COMPLETE = Buffer.from('"complete":true');
const CHAT = Buffer.from('"type":"chat.message"');

/** Why upgrades on the way back failed, and how often (one run's). */
const refusals = new Map<string, number>();
/** Set once the scenario closes its sockets: no client goes back then. */
let stopping = false;

/** One client of the storm: where it is, what it has seen, and its way back. */
class StormClient {
  socket!: RawSocket;
  readonly seen = new Set<string>();
  lastId: string | undefined;
  duplicates = 0;
  tries = 0;
  retries = 0;
  recovered: boolean | undefined;
  back = false;

  constructor(
    readonly room: string,
    private readonly localAddress: string,
  ) {}

  connect(port: number, resume: boolean, onBack: () => void): void {
    const query = resume && this.lastId !== undefined ? `?since=${this.lastId}` : '';
    const socket = new RawSocket({ host: '127.0.0.1', port, path: `${chatSocketPath(this.room)}${query}`, timeoutMs: 30_000, localAddress: this.localAddress }, nowUs);
    this.socket = socket;
    socket.onText = (bytes, start, end) => this.onText(bytes, start, end, resume, onBack);
    socket.opened.then(
      () => {
        this.tries = 0;
        if (!resume) {
          this.back = true;
          onBack();
          return;
        }
        // Closed by the survivor before its resume ended (1013: too slow): back again, as a client would.
        void socket.closed.then((code) => {
          if (this.recovered !== undefined || stopping) return;
          refusals.set(`closed ${code} before recovered`, (refusals.get(`closed ${code} before recovered`) ?? 0) + 1);
          this.retry(port, resume, onBack);
        });
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        refusals.set(reason, (refusals.get(reason) ?? 0) + 1);
        this.retry(port, resume, onBack);
      },
    );
  }

  private retry(port: number, resume: boolean, onBack: () => void): void {
    if (stopping) return;
    this.retries += 1;
    const delay = backoffDelay(this.tries);
    this.tries += 1;
    setTimeout(() => this.connect(port, resume, onBack), delay);
  }

  /** On a close (the node went away), the way back: after the backoff, to `port`. */
  reconnectOnClose(port: number, resume: boolean, onBack: () => void): void {
    void this.socket.closed.then(() => setTimeout(() => this.connect(port, resume, onBack), backoffDelay(this.tries++)));
  }

  private onText(bytes: Buffer, start: number, end: number, resume: boolean, onBack: () => void): void {
    const frame = bytes.subarray(start, end);
    if (frame.indexOf(CHAT) >= 0) {
      const at = frame.indexOf(ID_KEY);
      if (at < 0) return;
      const from = at + ID_KEY.length;
      const id = frame.toString('latin1', from, frame.indexOf(0x22, from));
      if (this.seen.has(id)) this.duplicates += 1;
      else this.seen.add(id);
      this.lastId = id;
    } else if (resume && this.recovered === undefined && frame.indexOf(RECOVERED) >= 0) {
      this.recovered = frame.indexOf(COMPLETE) >= 0;
      this.back = true;
      onBack();
    }
  }
}

/** A distinct loopback address per socket: per-address limits see 10,000 clients, as in life. */
const addressOf = (index: number): string => `127.1.${Math.floor(index / 250)}.${(index % 250) + 1}`;

async function historyIds(port: number, room: string): Promise<string[]> {
  const ids: string[] = [];
  let before: string | undefined;
  for (;;) {
    const path = `${roomMessagesPath(room)}?limit=${HISTORY_PAGE_MAX}${before ? `&before=${before}` : ''}`;
    const page = await new Promise<{ messages: { id: string }[]; hasMore: boolean }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`GET history: ${response.statusCode} ${body}`))));
      }).on('error', reject);
    });
    ids.unshift(...page.messages.map((message) => message.id));
    if (!page.hasMore || page.messages.length === 0) return ids;
    before = page.messages[0]!.id;
  }
}

/**
 * The storm against `nodeA` (signalled) and `survivor`. Roomcast's clients resume with `since`;
 * the bare server's just reconnect. `sender` posts to the survivor throughout (Roomcast only).
 */
export async function runStorm(nodeA: ServerUnderTest, survivor: ServerUnderTest, apiKey: string): Promise<StormResult> {
  const roomcast = nodeA.kind === 'roomcast';
  refusals.clear();
  stopping = false;
  const clients = Array.from({ length: STORM_SOCKETS }, (_, index) => new StormClient(`storm-${Math.floor(index / 50)}`, addressOf(index)));
  const result: StormResult = {
    label: survivor.label,
    sockets: STORM_SOCKETS,
    rooms: STORM_ROOMS,
    closedSeconds: 0,
    seconds: 0,
    back: 0,
    incomplete: 0,
    retries: 0,
    refusals: {},
    survivorCpuSeconds: 0,
    survivorCpuUsPerReconnect: 0,
    survivorPeakRssBytes: 0,
    checked: 0,
    missing: 0,
    duplicates: 0,
    messagesPosted: 0,
  };
  // The same posts reach both servers (the bare one broadcasts the body's text): the survivor
  // takes the reconnects on top of the same live traffic.
  const sender = new HttpSender(survivor.port, apiKey, [...new Set(clients.map((client) => client.room))], SEND_RATE_PER_ROOM);
  try {
    // Join node A, in batches (the first frame says a Roomcast socket is in).
    for (let from = 0; from < clients.length; from += CONNECT_BATCH) {
      const batch = clients.slice(from, from + CONNECT_BATCH);
      for (const client of batch) client.connect(nodeA.port, false, () => undefined);
      await Promise.all(batch.map((client) => client.socket.opened));
    }
    // Every socket in its room's group before the first message.
    await sleep(1000);
    sender.start();
    await sleep(2000);

    let back = 0;
    let allBack: () => void = () => undefined;
    const everyoneBack = new Promise<void>((resolve) => (allBack = resolve));
    const onBack = (): void => {
      back += 1;
      if (back === clients.length) allBack();
    };
    for (const client of clients) {
      client.back = false;
      client.reconnectOnClose(survivor.port, roomcast, onBack);
    }
    const meter = new Meter({ survivor: survivor.proc.pid });
    meter.start();
    const started = performance.now();
    process.kill(nodeA.proc.pid, 'SIGTERM');
    void Promise.all(clients.map((client) => client.socket.closed)).then(() => (result.closedSeconds = (performance.now() - started) / 1000));
    const timedOut = await Promise.race([everyoneBack.then(() => false), sleep(STORM_TIMEOUT_MS).then(() => true)]);
    result.seconds = (performance.now() - started) / 1000;
    const window = meter.stop();
    result.back = back;
    result.survivorCpuSeconds = window.cpu.survivor!;
    result.survivorCpuUsPerReconnect = (window.cpu.survivor! * 1e6) / Math.max(1, back);
    result.survivorPeakRssBytes = peakRssBytes(survivor.proc.pid);
    result.survivorCpuPercent = window.cpuPercent.survivor!;
    result.generatorCpuPercent = window.generatorCpuPercent;
    result.machineBusyPercent = window.machineBusyPercent;
    result.retries = clients.reduce((sum, client) => sum + client.retries, 0);
    result.refusals = Object.fromEntries(refusals);
    result.incomplete = clients.filter((client) => client.recovered === false).length;
    if (timedOut) result.error = `${clients.length - back} of ${clients.length} not back after ${STORM_TIMEOUT_MS / 1000} s`;

    await sleep(1000);
    await sender.stop();
    result.messagesPosted = sender.posted;
    if (sender.failed > 0) result.error = [result.error, `${sender.failed} posts failed (${sender.describeFailures()})`].filter(Boolean).join('; ');
    if (roomcast) {
      await sleep(1500);
      for (const room of new Set(clients.map((client) => client.room))) {
        const ids = await historyIds(survivor.port, room);
        for (const client of clients) {
          if (client.room !== room) continue;
          result.checked += ids.length;
          for (const id of ids) if (!client.seen.has(id)) result.missing += 1;
          result.duplicates += client.duplicates;
        }
      }
    }
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
  } finally {
    stopping = true;
    await sender.stop();
    for (const client of clients) client.socket?.close();
    await Promise.race([Promise.all(clients.map((client) => client.socket?.closed)), sleep(5000)]);
    for (const client of clients) client.socket?.socket.destroy();
  }
  return result;
}
