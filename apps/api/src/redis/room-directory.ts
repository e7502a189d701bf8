import { PAGE_SIZE, busiestFirst, decodeCursor, encodeCursor, matchesQuery, type DirectoryPage } from '../registry/room-registry.js';
import type { RedisClient } from './client.js';
import { ONLINE_ROOM_SHARDS, PUBLIC_ROOMS_KEY, onlineRoomShard, onlineRoomsKey, roomMembersKey, roomMetaKey } from './keys.js';

/**
 * The directory on Redis: the public rooms are one sorted set (all scores 0) read by name with
 * ZRANGEBYLEX, then the presence's online-rooms sets (ONLINE_ROOM_SHARDS of them, one slot each)
 * are walked in turn with ZSCAN for the rooms nobody claimed (the cursor names the shard and its
 * scan position). Each page reads at most SCAN_COUNT names of either, so no reply grows with the number
 * of rooms; per room, one command per key (never several rooms' keys in one command).
 */

/** Names read per page, whatever `q` matches. */
const SCAN_COUNT = 100;

/** A page of the directory (see RoomRegistry.directory). */
export async function directoryPage(redis: RedisClient, q: string, raw: string | undefined): Promise<DirectoryPage> {
  const cursor = decodeCursor(raw);
  if (!cursor) return { rooms: [], cursor: null };
  if (cursor.phase === 'o') return onlinePage(redis, q, cursor.at === '' ? '0:0' : cursor.at);
  const page = await publicPage(redis, q, cursor.at);
  if (page.cursor !== null) return page;
  // The public rooms ended on this page: the first rooms with someone online follow on it.
  const online = await onlinePage(redis, q, '0:0');
  return { rooms: [...page.rooms, ...online.rooms], cursor: online.cursor };
}

/** Public rooms after `after` by name (`cursor` null once they end); a page reads at most SCAN_COUNT names, whatever `q` matches. */
async function publicPage(redis: RedisClient, q: string, after: string): Promise<DirectoryPage> {
  const names = await redis.zrangebylex(PUBLIC_ROOMS_KEY, after === '' ? '-' : `(${after}`, '+', 'LIMIT', 0, SCAN_COUNT);
  const matching = names.filter((room) => matchesQuery(room, q)).slice(0, PAGE_SIZE);
  const rooms = await Promise.all(
    matching.map(async (room) => {
      const [topic, members, online] = await Promise.all([
        redis.hget(roomMetaKey(room), 'topic'),
        redis.hlen(roomMembersKey(room)),
        redis.zscore(onlineRoomsKey(onlineRoomShard(room)), room),
      ]);
      return { room, topic: topic ?? '', members, online: Number(online ?? 0) };
    }),
  );
  // Where this page stopped reading: after its last match, or after every name read.
  const last = matching.length === PAGE_SIZE ? matching.at(-1)! : names.at(-1);
  const more = matching.length === PAGE_SIZE || names.length === SCAN_COUNT;
  return { rooms, cursor: more && last !== undefined ? encodeCursor({ phase: 'p', at: last }) : null };
}

/**
 * Rooms with someone online that nobody claimed (claimed public ones were listed already; others
 * are hidden). Empty shards are walked past in the same request, so a page is empty only at the end.
 */
async function onlinePage(redis: RedisClient, q: string, at: string): Promise<DirectoryPage> {
  let page = await onlineScan(redis, q, at);
  for (let scans = 1; page.rooms.length === 0 && page.cursor !== null && scans < ONLINE_ROOM_SHARDS; scans += 1) {
    page = await onlineScan(redis, q, decodeCursor(page.cursor)!.at);
  }
  return page;
}

/** One ZSCAN step of one directory shard. */
async function onlineScan(redis: RedisClient, q: string, at: string): Promise<DirectoryPage> {
  const [shardText = '0', scanCursor = '0'] = at.split(':');
  const shard = Math.min(Math.max(Number(shardText) || 0, 0), ONLINE_ROOM_SHARDS - 1);
  const [scanned, flat] = await redis.zscan(onlineRoomsKey(shard), scanCursor, 'COUNT', SCAN_COUNT);
  const next = scanned !== '0' ? `${shard}:${scanned}` : shard + 1 < ONLINE_ROOM_SHARDS ? `${shard + 1}:0` : undefined;
  const candidates: Array<{ room: string; online: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    if (matchesQuery(flat[i]!, q)) candidates.push({ room: flat[i]!, online: Number(flat[i + 1]) });
  }
  const claimed = await Promise.all(candidates.map(({ room }) => redis.exists(roomMetaKey(room))));
  const rooms = candidates
    .filter((_, i) => claimed[i] === 0)
    .map(({ room, online }) => ({ room, topic: '', members: 0, online }))
    .sort(busiestFirst);
  return { rooms, cursor: next === undefined ? null : encodeCursor({ phase: 'o', at: next }) };
}
