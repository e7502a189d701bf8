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

/**
 * How long after restarting a room's idle clock a node skips restarting it again: 1% of
 * `ROOM_IDLE_TTL`, at most a minute. A room then expires at most that much sooner than
 * `ROOM_IDLE_TTL` after its last socket left, and a crowd coming into a room (10,000 sockets
 * coming back to 200 rooms after a deploy) restarts each room's clock once, not once a socket.
 */
export function touchSkipMs(idleTtlMs: number): number {
  return Math.min(60_000, Math.floor(idleTtlMs / 100));
}
