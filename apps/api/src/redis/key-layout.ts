import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { KEY_LAYOUT_KEY, roomDeletedKey, roomReadersKey, roomStateKey, roomStreamKey, roomTrimmedKey } from './keys.js';

/** The key layout this version writes, recorded once the old names are all renamed. */
const LAYOUT = 'hash-tagged';

/** The kept keys of a room (its history), by their last part, under their hash-tagged names. */
const KEPT: Record<string, (room: string) => string> = {
  log: roomStreamKey,
  trimmed: roomTrimmedKey,
  state: roomStateKey,
  deleted: roomDeletedKey,
  readers: roomReadersKey,
};

/** A kept key of a room under the names of Roomcast before hash tags (`rc:room:ROOM:log`). */
const UNTAGGED = /^rc:room:([A-Za-z0-9_-]{1,64}):(log|trimmed|state|deleted|readers)$/;

/**
 * Renames the rooms' kept keys (logs, trimmed marks, message state, tombstones, readers) of a
 * Redis written by a Roomcast whose keys had no hash tags (`rc:room:ROOM:log` becomes
 * `rc:room:{ROOM}:log`), so that history, with its edits and deletions, survives the upgrade. One SCAN on one Redis (a cluster never held the old names), until it has once gone
 * through (KEY_LAYOUT_KEY records it: later starts read one key); a key already renamed by another
 * node starting at the same time, or whose new name exists, is left alone. Presence, publish keys
 * and the room directory are short-lived and are rebuilt, not renamed. Returns the number of keys
 * renamed.
 */
export async function renameUntaggedRoomKeys(redis: Redis, log: FastifyBaseLogger): Promise<number> {
  if ((await redis.get(KEY_LAYOUT_KEY)) === LAYOUT) return 0;
  let renamed = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'rc:room:*', 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const match = UNTAGGED.exec(key);
      if (!match) continue;
      const target = KEPT[match[2]!]!(match[1]!);
      // RENAMENX keeps the TTL; ERR no such key: another node renamed it first.
      if ((await redis.renamenx(key, target).catch(() => 0)) === 1) renamed += 1;
    }
  } while (cursor !== '0');
  await redis.set(KEY_LAYOUT_KEY, LAYOUT);
  if (renamed > 0) log.info({ renamed }, 'renamed rooms written before hash-tagged keys (rc:room:ROOM:log is now rc:room:{ROOM}:log)');
  return renamed;
}
