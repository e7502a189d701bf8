/** How often the watch timer should fire... */
const TICK_MS = 100;
/** ...and how late it must be before the lateness counts as a stall (GC pauses and busy turns do not). */
const STALL_MIN_MS = 500;

let lastTick = 0;
let stalled = 0;
let timer: NodeJS.Timeout | undefined;

/**
 * Milliseconds this process could not run since it started watching: the event loop blocked,
 * or the process stopped (SIGSTOP, a VM paused). A timer that should fire every 100 ms and
 * fires late says so; a stall still going on (the timer not yet run) counts up to now, so the
 * frames read first after a pause already see it. Monotonic, never decreasing.
 */
export function stalledMs(): number {
  const now = performance.now();
  if (timer === undefined) {
    lastTick = now;
    timer = setInterval(() => {
      const at = performance.now();
      const late = at - lastTick - TICK_MS;
      if (late > STALL_MIN_MS) stalled += late;
      lastTick = at;
    }, TICK_MS);
    timer.unref();
  }
  const late = now - lastTick - TICK_MS;
  return stalled + (late > STALL_MIN_MS ? late : 0);
}
