/**
 * Watches one socket's silence: after `intervalMs` with nothing heard it asks for a sign of life
 * (`ping`), after twice that it gives the link up (`dead`). A browser cannot see WebSocket pings,
 * and a link that died without a close (a phone changing networks, a half-open TCP connection)
 * would otherwise show Connected for minutes.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private lastHeardAt = 0;

  constructor(private readonly intervalMs: number) {}

  /** Starts watching; `heard()` on every frame received. An interval of 0 watches nothing. */
  start(ping: () => void, dead: () => void): void {
    this.stop();
    this.lastHeardAt = Date.now();
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => {
      const quiet = Date.now() - this.lastHeardAt;
      if (quiet >= 2 * this.intervalMs) dead();
      else if (quiet >= this.intervalMs) ping();
    }, this.intervalMs / 2);
  }

  heard(): void {
    this.lastHeardAt = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
