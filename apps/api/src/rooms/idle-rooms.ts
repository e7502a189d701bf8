/**
 * Which rooms are forgotten after idling. A room nobody claimed, with no socket and no new
 * message for `ROOM_IDLE_TTL`, is forgotten with its history and every key of it, on both
 * backends: otherwise anyone can make storage grow without bound by naming new rooms.
 *
 * This is the one place that decides it. Claimed rooms (with an owner) are to be kept: when
 * rooms can be claimed, answer false here for a claimed one, and both backends keep it.
 */
export function expiresWhenIdle(_room: string): boolean {
  return true;
}

/** How often occupied rooms have their idle clock restarted (and, embedded, idle ones dropped). */
export function roomSweepMs(idleTtlMs: number): number {
  return Math.min(10 * 60_000, Math.max(250, Math.floor(idleTtlMs / 4)));
}
