/**
 * Which rooms are forgotten after idling. A room nobody claimed, with no socket and no new
 * message for `ROOM_IDLE_TTL`, is forgotten with its history and every key of it, on both
 * backends: otherwise anyone can make storage grow without bound by naming new rooms.
 *
 * This is the one place that decides it. A claimed room (with an owner) is kept: `claimed` is the
 * backend's room registry, which answers from what its node knows (the embedded registry knows
 * everything; on Redis every publish is preceded on its node by the access check that learns it,
 * and claiming removes the expiry from the room's keys).
 */
export function expiresWhenIdle(room: string, claimed?: { isClaimed(room: string): boolean }): boolean {
  return claimed === undefined || !claimed.isClaimed(room);
}

/** How often occupied rooms have their idle clock restarted (and, embedded, idle ones dropped). */
export function roomSweepMs(idleTtlMs: number): number {
  return Math.min(10 * 60_000, Math.max(250, Math.floor(idleTtlMs / 4)));
}
