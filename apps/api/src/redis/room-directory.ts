import type { Redis } from 'ioredis';
import { PAGE_SIZE, busiestFirst, decodeCursor, encodeCursor, matchesQuery, type DirectoryPage } from '../registry/room-registry.js';
import { ONLINE_ROOMS_KEY, PUBLIC_ROOMS_KEY, roomMembersKey, roomMetaKey } from './keys.js';

/**
 * The directory on Redis: the public rooms are one sorted set (all scores 0) read by name with
 * ZRANGEBYLEX, then the presence's online-rooms set is walked with ZSCAN for the rooms nobody
 * claimed. Each page reads at most SCAN_COUNT names of either, so no reply grows with the number
 * of rooms; per room, one command per key (never several rooms' keys in one command).
 */

/** Names read per page, whatever `q` matches. */
const SCAN_COUNT = 100;

/** A page of the directory (see RoomRegistry.directory). */
export async function directoryPage(redis: Redis, q: string, raw: string | undefined): Promise<DirectoryPage> {
  const cursor = decodeCursor(raw);
  if (!cursor) return { rooms: [], cursor: null };
  if (cursor.phase === 'o') return onlinePage(redis, q, cursor.at === '' ? '0' : cursor.at);
  const page = await publicPage(redis, q, cursor.at);
  if (page.cursor !== null) return page;
  // The public rooms ended on this page: the first rooms with someone online follow on it.
  const online = await onlinePage(redis, q, '0');
  return { rooms: [...page.rooms, ...online.rooms], cursor: online.cursor };
}

/** Public rooms after `after` by name (`cursor` null once they end); a page reads at most SCAN_COUNT names, whatever `q` matches. */
async function publicPage(redis: Redis, q: string, after: string): Promise<DirectoryPage> {
  const names = await redis.zrangebylex(PUBLIC_ROOMS_KEY, after === '' ? '-' : `(${after}`, '+', 'LIMIT', 0, SCAN_COUNT);
  const matching = names.filter((room) => matchesQuery(room, q)).slice(0, PAGE_SIZE);
  const rooms = await Promise.all(
    matching.map(async (room) => {
      const [topic, members, online] = await Promise.all([
        redis.hget(roomMetaKey(room), 'topic'),
        redis.hlen(roomMembersKey(room)),
        redis.zscore(ONLINE_ROOMS_KEY, room),
      ]);
      return { room, topic: topic ?? '', members, online: Number(online ?? 0) };
    }),
  );
  // Where this page stopped reading: after its last match, or after every name read.
  const last = matching.length === PAGE_SIZE ? matching.at(-1)! : names.at(-1);
  const more = matching.length === PAGE_SIZE || names.length === SCAN_COUNT;
  return { rooms, cursor: more && last !== undefined ? encodeCursor({ phase: 'p', at: last }) : null };
}

/** Rooms with someone online that nobody claimed (claimed public ones were listed already; others are hidden). */
async function onlinePage(redis: Redis, q: string, scanCursor: string): Promise<DirectoryPage> {
  const [next, flat] = await redis.zscan(ONLINE_ROOMS_KEY, scanCursor, 'COUNT', SCAN_COUNT);
  const candidates: Array<{ room: string; online: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (matchesQuery(flat[i]!, q)) candidates.push({ room: flat[i]!, online: Number(flat[i + 1]) });
  }
  const claimed = await Promise.all(candidates.map(({ room }) => redis.exists(roomMetaKey(room))));
  const rooms = candidates
    .filter((_, i) => claimed[i] === 0)
    .map(({ room, online }) => ({ room, topic: '', members: 0, online }))
    .sort(busiestFirst);
  return { rooms, cursor: next === '0' ? null : encodeCursor({ phase: 'o', at: next }) };
}
