/**
 * Replay bytes in flight per client IP on this node: sent to that IP's sockets by resumes and not
 * yet acknowledged. One IP reads one page at a time, and only while its bytes in flight are under
 * the cap, so an address that opens many resuming sockets and never reads them holds at most
 * about the cap in the kernel's buffers and nothing more in ours; the others wait their turn.
 */
export class ReplayBudget {
  private readonly ips = new Map<string, IpState>();

  constructor(private readonly capBytes: number) {}

  /**
   * Waits for `ip`'s turn to read a page. Undefined when the turn did not come within
   * `timeoutMs` (the address has pages out that nobody reads).
   */
  async acquire(ip: string, timeoutMs: number): Promise<ReplayLease | undefined> {
    const state = this.state(ip);
    if (!this.startRead(state)) {
      const granted = await new Promise<boolean>((resolve) => {
        const waiter = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          state.waiters.splice(state.waiters.indexOf(waiter), 1);
          resolve(false);
        }, timeoutMs);
        state.waiters.push(waiter);
      });
      if (!granted) {
        this.forgetIfIdle(ip, state);
        return undefined;
      }
    }
    return new ReplayLease(() => this.wake(ip, state), state);
  }

  /** Bytes in flight for `ip` (metrics and tests). */
  inFlight(ip: string): number {
    return this.ips.get(ip)?.inFlight ?? 0;
  }

  private state(ip: string): IpState {
    let state = this.ips.get(ip);
    if (!state) {
      state = { inFlight: 0, reading: false, waiters: [] };
      this.ips.set(ip, state);
    }
    return state;
  }

  private startRead(state: IpState): boolean {
    if (state.reading || state.inFlight >= this.capBytes) return false;
    state.reading = true;
    return true;
  }

  private wake(ip: string, state: IpState): void {
    while (state.waiters.length > 0 && this.startRead(state)) state.waiters.shift()!();
    this.forgetIfIdle(ip, state);
  }

  private forgetIfIdle(ip: string, state: IpState): void {
    if (!state.reading && state.inFlight === 0 && state.waiters.length === 0) this.ips.delete(ip);
  }
}

interface IpState {
  inFlight: number;
  /** A page of this IP is being read: the next waits, so one address reads one page at a time. */
  reading: boolean;
  waiters: Array<() => void>;
}

/** One page's turn: read it, `sent(bytes)` once written, `done()` once acknowledged or abandoned. */
export class ReplayLease {
  private bytes = 0;
  private reading = true;
  private finished = false;

  constructor(
    private readonly wake: () => void,
    private readonly state: IpState,
  ) {}

  sent(bytes: number): void {
    if (this.finished || !this.reading) return;
    this.reading = false;
    this.bytes = bytes;
    this.state.inFlight += bytes;
    this.state.reading = false;
    this.wake();
  }

  done(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.reading) this.state.reading = false;
    this.state.inFlight -= this.bytes;
    this.wake();
  }
}
