/**
 * Who is typing: each name until its notice runs out (senders repeat it every couple of seconds
 * while they type) or their message arrives. Tells `onChange` the names whenever the set changes.
 */
export class TypingTracker {
  private readonly until = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onChange: (names: string[]) => void,
  ) {}

  saw(name: string): void {
    const isNew = !this.until.has(name);
    this.until.set(name, Date.now() + this.timeoutMs);
    if (isNew) this.onChange([...this.until.keys()]);
    this.schedule();
  }

  stopped(name: string): void {
    if (!this.until.delete(name)) return;
    this.onChange([...this.until.keys()]);
    this.schedule();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.until.clear();
  }

  private expire(): void {
    const now = Date.now();
    let changed = false;
    for (const [name, until] of this.until) {
      if (until <= now) changed = this.until.delete(name) || changed;
    }
    if (changed) this.onChange([...this.until.keys()]);
    this.schedule();
  }

  /** One timer, for the notice that runs out first. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.until.size === 0) return;
    const next = Math.min(...this.until.values());
    this.timer = setTimeout(() => this.expire(), Math.max(0, next - Date.now()) + 5);
  }
}
