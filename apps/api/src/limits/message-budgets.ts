import type { Config } from '../config.js';
import { KeyedBuckets, type RateDecision } from './rate-limiter.js';

export interface BudgetRefusal extends RateDecision {
  allowed: false;
  /** What ran out, for the error frame's reason. */
  reason: string;
}

/**
 * Chat-message budgets that outlive a socket: one per client IP and one per signed-in user,
 * over all their sockets on this node. A per-socket limit alone resets on every reconnect (one
 * address reached 25,000 messages a second by reconnecting); these do not. Kept in process, so
 * a message costs no round trip; across N nodes an address gets at most N budgets.
 */
export class MessageBudgets {
  private readonly buckets = new KeyedBuckets();

  constructor(private readonly config: Pick<Config, 'ipMessageRate' | 'userMessageRate'>) {}

  /** Takes one message from the IP's budget, then the user's; the first that is empty refuses. */
  take(ip: string, user: string | null): BudgetRefusal | undefined {
    const { ipMessageRate, userMessageRate } = this.config;
    if (ipMessageRate > 0) {
      const decision = this.buckets.take(`ip:${ip}`, ipMessageRate, ipMessageRate * 2);
      if (!decision.allowed) return { ...decision, allowed: false, reason: `At most ${ipMessageRate} messages a second from one address; slow down.` };
    }
    if (userMessageRate > 0 && user !== null) {
      const decision = this.buckets.take(`user:${user}`, userMessageRate, userMessageRate * 2);
      if (!decision.allowed) return { ...decision, allowed: false, reason: `At most ${userMessageRate} messages a second per user; slow down.` };
    }
    return undefined;
  }

  close(): void {
    this.buckets.close();
  }
}
