import type { Result } from 'ioredis';
import type { RedisClient } from './client.js';

/**
 * Every server-side Lua script of the Redis backend. Each runs atomically, so what it reads and
 * what it publishes describe one moment: a message is stored and fanned out in one step, and a
 * presence frame is built from the very state the script just changed. Key names reach the
 * scripts as KEYS (from keys.ts), never spelled here; `defineCommand` sends them by EVALSHA and
 * falls back to EVAL after a Redis restart has emptied the script cache.
 */

/**
 * Appends an entry to the room's log (a chat message, or a change to one: an edit, a deletion, a
 * reaction), keeps the room's message state (the hash of edits, reactions and deletions by
 * message ID) up to date, trims the log to its limit (remembering the newest ID it dropped, for
 * incomplete resumes, and forgetting the state of what it dropped), restarts the room's idle
 * clock and publishes the entry to the room's group: the order of the log is the order of the
 * fan-out because both happen in one script. It publishes with SPUBLISH: the group's sharded
 * channel carries the room's hash tag like its keys (keys.ts), so on a Redis Cluster the script
 * runs in the room's one slot.
 *
 * Every step that can fail runs in `prepare`, before the first write: a script that failed
 * after XADD would leave a message stored, and later replayed, that its sender was told was not
 * stored, and that live listeners never got (a ghost). So do the checks that depend on the log
 * (the target of a change or a reply is a kept message, the actor may change it): a refusal
 * writes nothing, and an edit racing a deletion cannot both succeed. After the write there is
 * only string joining and commands that cannot fail on our own keys; and Redis refuses a
 * script's first write (not a later one) when it is out of memory, so an OOM refusal also
 * stores nothing.
 *
 * A deletion removes the message's entry and its edits' entries (XDEL): the text is gone from
 * Redis, not hidden. The state hash keeps only `{"d":1,"a":author}` for it, and the deleted set
 * its ID, so `GET` lists a tombstone until the log's trim passes it.
 *
 * KEYS: 1 log stream, 2 trimmed-through marker, 3 message state hash, 4 deleted set.
 * ARGV: 1 history limit, 2 group channel, 3 text ('' for a deletion or reaction), 4 author or
 * actor ('' for an anonymous guest; see redis/history.ts), 5 frame text before the ID, 6 frame
 * text between the ID and the time (for a reaction: up to its `on` value), 7 sender channel, 8
 * nonce, 9 nonce scope ('' for none of 7-9), 10 room idle TTL in ms (0: the room never expires),
 * 11 kind ('' for a message, else edit, delete or reaction), 12 the reply's or change's target
 * ID ('' for none), 13 emoji, 14 reaction wanted ('' toggles, '1' on, '0' off), 15 mentions
 * (comma-joined), 16 a reaction's frame text between its `on` value and the time, 17 the
 * actor's right over others' messages (own, any, none), 18 the entry's frame type.
 */
const APPEND_FUNCTION = `
local function refuse(what)
  return redis.error_reply('ERR roomcast append refused before writing: ' .. what)
end

local function refuseChange(code)
  return redis.error_reply('ERR roomcast change refused: ' .. code)
end

local function fieldOf(fields, name)
  for i = 1, #fields - 1, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end

local function prepare()
  local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[10])
  if not limit or limit < 1 or limit ~= math.floor(limit) then return nil, refuse('bad history limit') end
  if not ttl or ttl < 0 or ttl ~= math.floor(ttl) then return nil, refuse('bad room TTL') end
  if #ARGV[8] > 64 or not string.find(ARGV[8], '^[!-~]*$') then return nil, refuse('bad nonce') end
  if #ARGV[9] > 200 then return nil, refuse('bad scope') end
  local kind, target = ARGV[11], ARGV[12]
  if kind ~= '' and kind ~= 'edit' and kind ~= 'delete' and kind ~= 'reaction' then return nil, refuse('bad kind') end
  if target ~= '' and not string.find(target, '^%d+%-%d+$') then return nil, refuse('bad target') end
  if kind ~= '' and target == '' then return nil, refuse('a change needs a target') end
  -- The published event is JSON made here: after the write only the ID and the time are added.
  local before, between, after = cjson.encode(ARGV[5]), cjson.encode(ARGV[6]), cjson.encode(ARGV[16])
  local origin = ''
  if ARGV[7] ~= '' then origin = origin .. ',"sender":' .. cjson.encode(ARGV[7]) end
  if ARGV[8] ~= '' then origin = origin .. ',"nonce":' .. cjson.encode(ARGV[8]) end
  local p = {
    limit = limit,
    ttl = ttl,
    kind = kind,
    target = target,
    before = string.sub(before, 1, -2),
    between = string.sub(between, 2, -2),
    after = string.sub(after, 2, -2),
    origin = origin,
    on = '',
  }
  if target == '' then return p end
  -- The reply or the change names a kept message: an entry of the log that is not a change.
  local entry = redis.call('XRANGE', KEYS[1], target, target)[1]
  if not entry or fieldOf(entry[2], 'kind') then return nil, refuseChange('not_found') end
  if kind == '' then return p end
  p.author = fieldOf(entry[2], 'user') or ''
  local right = ARGV[17]
  if kind ~= 'reaction' and (right == 'none' or (right == 'own' and p.author ~= ARGV[4])) then
    return nil, refuseChange('forbidden')
  end
  local raw = redis.call('HGET', KEYS[3], target)
  p.state = raw and cjson.decode(raw) or {}
  if kind == 'reaction' then
    local reactions = p.state.r or {}
    local who = reactions[ARGV[13]] or {}
    local has = false
    for _, name in ipairs(who) do
      if name == ARGV[4] then has = true end
    end
    if ARGV[14] == '1' then p.on = 'true'
    elseif ARGV[14] == '0' then p.on = 'false'
    elseif has then p.on = 'false'
    else p.on = 'true' end
  end
  return p
end

local function remember(p, id, ts)
  if p.kind == 'edit' then
    p.state.e, p.state.m, p.state.n = ts, ARGV[3], ARGV[15]
    local edits = p.state.x or {}
    edits[#edits + 1] = id
    p.state.x = edits
    redis.call('HSET', KEYS[3], p.target, cjson.encode(p.state))
  elseif p.kind == 'reaction' then
    local reactions = p.state.r or {}
    local who = {}
    for _, name in ipairs(reactions[ARGV[13]] or {}) do
      if name ~= ARGV[4] then who[#who + 1] = name end
    end
    if p.on == 'true' then who[#who + 1] = ARGV[4] end
    if #who > 0 then reactions[ARGV[13]] = who else reactions[ARGV[13]] = nil end
    p.state.r = reactions
    redis.call('HSET', KEYS[3], p.target, cjson.encode(p.state))
  elseif p.kind == 'delete' then
    redis.call('XDEL', KEYS[1], p.target, unpack(p.state.x or {}))
    redis.call('HSET', KEYS[3], p.target, cjson.encode({d = 1, a = p.author}))
    redis.call('ZADD', KEYS[4], tonumber(string.match(p.target, '^(%d+)')), p.target)
  end
end

-- True when message ID a comes after b (both digit-dash-digit, no leading zeros).
local function later(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if #am ~= #bm then return #am > #bm end
  if am ~= bm then return am > bm end
  if #as ~= #bs then return #as > #bs end
  return as > bs
end

local function trim(p)
  local excess = redis.call('XLEN', KEYS[1]) - p.limit
  if excess <= 0 then return end
  local dropped = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  local through = dropped[#dropped][1]
  redis.call('SET', KEYS[2], through)
  redis.call('XTRIM', KEYS[1], 'MAXLEN', p.limit)
  local ids = {}
  for _, entry in ipairs(dropped) do ids[#ids + 1] = entry[1] end
  redis.call('HDEL', KEYS[3], unpack(ids))
  -- Tombstones of messages older than the trimmed-through point go with them.
  local upto = tonumber(string.match(through, '^(%d+)'))
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', upto)) do
    if not later(id, through) then
      redis.call('ZREM', KEYS[4], id)
      redis.call('HDEL', KEYS[3], id)
    end
  end
end

local function append(p)
  local fields = {}
  if p.kind ~= '' then
    fields[#fields + 1] = 'kind'
    fields[#fields + 1] = p.kind
    fields[#fields + 1] = 'target'
    fields[#fields + 1] = p.target
  end
  if p.kind == '' or p.kind == 'edit' then
    fields[#fields + 1] = 'message'
    fields[#fields + 1] = ARGV[3]
  end
  if ARGV[4] ~= '' then
    fields[#fields + 1] = 'user'
    fields[#fields + 1] = ARGV[4]
  end
  if p.kind == '' and p.target ~= '' then
    fields[#fields + 1] = 'reply'
    fields[#fields + 1] = p.target
  end
  if ARGV[15] ~= '' then
    fields[#fields + 1] = 'mentions'
    fields[#fields + 1] = ARGV[15]
  end
  if p.kind == 'reaction' then
    fields[#fields + 1] = 'emoji'
    fields[#fields + 1] = ARGV[13]
    fields[#fields + 1] = 'on'
    fields[#fields + 1] = p.on == 'true' and '1' or '0'
  end
  if ARGV[8] ~= '' and ARGV[9] ~= '' then
    fields[#fields + 1] = 'nonce'
    fields[#fields + 1] = ARGV[8]
    fields[#fields + 1] = 'scope'
    fields[#fields + 1] = ARGV[9]
  end
  local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
  local ts = string.match(id, '^(%d+)')
  remember(p, id, ts)
  trim(p)
  if p.ttl > 0 then
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], p.ttl) end
  end
  local onText = ''
  if p.kind == 'reaction' then onText = p.on .. p.after end
  redis.call('SPUBLISH', ARGV[2], '{"type":' .. cjson.encode(ARGV[18]) .. ',"id":"' .. id .. '","frame":' .. p.before .. id .. p.between
    .. onText .. ts .. '}"' .. p.origin .. '}')
  return id
end
`;

/** Appends and publishes (see APPEND_FUNCTION). Returns the new entry's ID and, for a reaction, 1 when it is now on. */
const APPEND = `${APPEND_FUNCTION}
local p, refused = prepare()
if not p then return refused end
return {append(p), p.on == 'true' and 1 or 0}
`;

/**
 * Appends and publishes unless the publish key (a scoped socket nonce, an Idempotency-Key) was
 * used before, and remembers the key: the check, the append and the record are one atomic step,
 * so a keyed publish costs one round trip like any other. The key holds the entry's ID only
 * (about 100 bytes in Redis, whatever the message), for at most ARGV[19] ms. The key is looked
 * up before the log's checks: a resend of a deletion that was stored answers with that deletion.
 *
 * KEYS: as APPEND, then 5 publish key.
 * ARGV: as APPEND, then 19 how long the key is remembered (ms).
 * Returns {1, new ID, on} when stored; {0, the first entry's ID, its stream fields (empty once
 * trimmed)} when the key was used.
 */
const APPEND_ONCE = `${APPEND_FUNCTION}
local keyTtl = tonumber(ARGV[19])
if not keyTtl or keyTtl < 1 or keyTtl ~= math.floor(keyTtl) then return refuse('bad key TTL') end
local prior = redis.call('GET', KEYS[5])
if prior then
  if not string.find(prior, '^%d+%-%d+$') then return refuse('the publish key holds no message ID') end
  local entry = redis.call('XRANGE', KEYS[1], prior, prior)[1]
  return {0, prior, entry and entry[2] or {}}
end
local p, refused = prepare()
if not p then return refused end
local id = append(p)
redis.call('SET', KEYS[5], id, 'PX', keyTtl)
return {1, id, p.on == 'true' and 1 or 0}
`;

/**
 * Shared by the presence scripts, every step O(1) whatever the size of the room: the per-user
 * and anonymous counts follow each member added or removed, and every change moves the room's
 * version. Nothing here reads the whole room, and nothing leaves the room's slot: the node's own
 * entry list and the room directory are written by the caller (redis/presence.ts), beside it.
 *
 * A member's value is its username, `~NAME` for a named guest, '' for an anonymous one; the users
 * hash counts connections per value (named guests too), `anonymous` every guest connection.
 *
 * A version is Redis's clock in microseconds, or one more than the last when that is not
 * behind: it only grows, even across the stats hash expiring and coming back, so no earlier state
 * of the room can have it again.
 *
 * KEYS of both scripts: 1 room presence hash, 2 room users hash, 3 room stats hash.
 */
const PRESENCE_HELPERS = `
local function count(user, delta)
  -- '' is an anonymous guest, '~NAME' a named one: both are guest connections.
  if user == '' or string.sub(user, 1, 1) == '~' then
    if redis.call('HINCRBY', KEYS[3], 'anonymous', delta) <= 0 then redis.call('HDEL', KEYS[3], 'anonymous') end
  end
  if user ~= '' and redis.call('HINCRBY', KEYS[2], user, delta) <= 0 then
    redis.call('HDEL', KEYS[2], user)
  end
end

local function changed()
  local n = redis.call('HLEN', KEYS[1])
  local time = redis.call('TIME')
  local version = math.max(tonumber(redis.call('HGET', KEYS[3], 'version') or '0') + 1, tonumber(time[1]) * 1000000 + tonumber(time[2]))
  version = string.format('%d', version)
  redis.call('HSET', KEYS[3], 'version', version)
  if n == 0 then
    -- Kept a minute after the room empties, long enough for its last frame to go out.
    redis.call('PEXPIRE', KEYS[3], 60000)
  else
    redis.call('PERSIST', KEYS[3])
  end
  return n, version
end
`;

/**
 * Adds (or re-adds, after a heal) members of one node to a room. The room is announced by the
 * node afterwards (see PRESENCE_READ), not here.
 *
 * KEYS: as PRESENCE_HELPERS. ARGV: pairs of member and user ('' for anonymous).
 * Returns {members that were new (or changed user), connections now, version ('' when unchanged)}.
 */
const PRESENCE_ADD = `${PRESENCE_HELPERS}
local added = 0
for i = 1, #ARGV, 2 do
  local member, user = ARGV[i], ARGV[i + 1]
  local prior = redis.call('HGET', KEYS[1], member)
  if prior ~= user then
    if prior then count(prior, -1) end
    redis.call('HSET', KEYS[1], member, user)
    count(user, 1)
    added = added + 1
  end
end
if added == 0 then return {0, redis.call('HLEN', KEYS[1]), ''} end
local n, version = changed()
return {added, n, version}
`;

/**
 * Removes members of one node from a room.
 *
 * KEYS: as PRESENCE_HELPERS. ARGV: members.
 * Returns {members removed, connections now, version ('' when unchanged)}.
 */
const PRESENCE_REMOVE = `${PRESENCE_HELPERS}
local removed = 0
for i = 1, #ARGV do
  local user = redis.call('HGET', KEYS[1], ARGV[i])
  if user then
    redis.call('HDEL', KEYS[1], ARGV[i])
    count(user, -1)
    removed = removed + 1
  end
end
if removed == 0 then return {0, redis.call('HLEN', KEYS[1]), ''} end
local n, version = changed()
return {removed, n, version}
`;

/**
 * Writes a room's number of connections into its shard of the room directory, unless a write
 * from a newer state of the room came first (changes of one room on two nodes may reach here in
 * either order). The version stays when the room leaves, so a late older write cannot bring it back.
 *
 * KEYS: directory shard (sorted set), its versions hash. ARGV: room, connections, version.
 * Returns 1 when written.
 */
const ONLINE_ROOM_SET = `
local last = redis.call('HGET', KEYS[2], ARGV[1])
-- Versions are decimal integers: the longer is the larger, and of equal length the later in order.
if last and (#last > #ARGV[3] or (#last == #ARGV[3] and last >= ARGV[3])) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if tonumber(ARGV[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
return 1
`;

/**
 * Reads what a room's presence frame needs, unless another node announced the room less than
 * an interval ago (then answers how long until it may). The interval grows with the room as
 * presenceIntervalMs says (ARGV[3] is PRESENCE_COPIES_PER_SECOND). Names are read only for a
 * room of at most the list limit; a larger one costs the same as an empty one.
 *
 * KEYS: room presence hash, room users hash, room stats hash, announce gate.
 * ARGV: list limit, interval ms (0: no gate), copies a second.
 * Returns {0, ms to wait} or {1, connections, anonymous, distinct named users, version, names}.
 */
const PRESENCE_READ = `
local interval = tonumber(ARGV[2])
local size = redis.call('HLEN', KEYS[1])
if interval > 0 then
  interval = math.max(interval, math.ceil(size * 1000 / tonumber(ARGV[3])))
  if not redis.call('SET', KEYS[4], '1', 'PX', interval, 'NX') then
    return {0, math.max(1, redis.call('PTTL', KEYS[4]))}
  end
end
local stats = redis.call('HMGET', KEYS[3], 'anonymous', 'version')
local names = {}
if size <= tonumber(ARGV[1]) then names = redis.call('HKEYS', KEYS[2]) end
return {1, size, tonumber(stats[1] or '0'), redis.call('HLEN', KEYS[2]), stats[2] or '0', names}
`;

/**
 * Publishes a presence frame built from the state at `version`, unless the room changed since:
 * a newer frame is then on its way, and this one must not arrive after it.
 *
 * KEYS: room stats hash. ARGV: version, group channel (the room's, same slot), event JSON.
 * Returns 1 when published.
 */
const PRESENCE_PUBLISH = `
if (redis.call('HGET', KEYS[1], 'version') or '0') ~= ARGV[1] then return 0 end
redis.call('SPUBLISH', ARGV[2], ARGV[3])
return 1
`;

/**
 * Whether a node can be forgotten: it is dead and has no presence entries left (the caller then
 * takes it out of the node list).
 *
 * KEYS: node members set, node alive key (one slot: the node's hash tag). Returns 1 when so.
 */
const PRESENCE_NODE_GONE = `
if redis.call('EXISTS', KEYS[2]) == 0 and redis.call('SCARD', KEYS[1]) == 0 then return 1 end
return 0
`;

/**
 * Where a capped replay starts (RoomHistory.replayStart): walks the log newest first, in pages,
 * adding up each entry's frame size as frameBytesEstimate does (text, user and ID bytes plus the
 * fixed overhead, which includes the room's), and answers with one ID, so the node never
 * receives the megabytes it would skip.
 *
 * KEYS: log stream. ARGV: since ID, max bytes, overhead per entry.
 * Returns {start-after ID, 1 if cut else 0}.
 */
const REPLAY_START = `
local since, max, overhead = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local bytes, upper = 0, '+'
while true do
  local entries = redis.call('XREVRANGE', KEYS[1], upper, '(' .. since, 'COUNT', 100)
  for _, entry in ipairs(entries) do
    local size, fields = overhead + #entry[1], entry[2]
    for i = 1, #fields - 1, 2 do
      if fields[i] == 'message' or fields[i] == 'user' then size = size + #fields[i + 1] end
    end
    bytes = bytes + size
    if bytes > max then return {entry[1], 1} end
  end
  if #entries < 100 then return {since, 0} end
  upper = '(' .. entries[#entries][1]
end
`;

/**
 * Takes one token from a bucket refilled at `rate` a second up to `burst`, on Redis's clock so
 * that every node agrees. The key expires once the bucket would be full again.
 *
 * KEYS: bucket hash. ARGV: rate, burst. Returns {allowed (0 or 1), retry-after milliseconds}.
 */
const TAKE_TOKEN = `
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed, retry = 0, 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) * 1000 / rate) + 1000)
return {allowed, retry}
`;

/**
 * Moves a user's read position in a room forward only: two devices marking at once, or one
 * marking late, never move it back.
 *
 * KEYS: the user's reads hash. ARGV: room, message ID. Returns the position now held.
 */
const MARK_READ = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
local function later(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  if not bm then return true end
  if #am ~= #bm then return #am > #bm end
  if am ~= bm then return am > bm end
  if #as ~= #bs then return #as > #bs end
  return as > bs
end
if not string.find(ARGV[2], '^%d+%-%d+$') then return redis.error_reply('ERR roomcast read refused: bad ID') end
if held and held ~= '' and not later(ARGV[2], held) then return held end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
`;

const SCRIPTS = {
  roomcastMarkRead: { numberOfKeys: 1, lua: MARK_READ },
  roomcastAppend: { numberOfKeys: 4, lua: APPEND },
  roomcastAppendOnce: { numberOfKeys: 5, lua: APPEND_ONCE },
  roomcastPresenceAdd: { numberOfKeys: 3, lua: PRESENCE_ADD },
  roomcastPresenceRemove: { numberOfKeys: 3, lua: PRESENCE_REMOVE },
  roomcastOnlineRoomSet: { numberOfKeys: 2, lua: ONLINE_ROOM_SET },
  roomcastPresenceRead: { numberOfKeys: 4, lua: PRESENCE_READ },
  roomcastPresencePublish: { numberOfKeys: 1, lua: PRESENCE_PUBLISH },
  roomcastPresenceNodeGone: { numberOfKeys: 2, lua: PRESENCE_NODE_GONE },
  roomcastTakeToken: { numberOfKeys: 1, lua: TAKE_TOKEN },
  roomcastReplayStart: { numberOfKeys: 1, lua: REPLAY_START },
} as const;

type Arg = string | number;

declare module 'ioredis' {
  // On the command clients of one Redis and of a cluster alike (both are RedisCommanders).
  interface RedisCommander<Context> {
    roomcastAppend(stream: string, trimmed: string, state: string, deleted: string, ...argv: Arg[]): Result<[string, number], Context>;
    roomcastAppendOnce(
      stream: string,
      trimmed: string,
      state: string,
      deleted: string,
      publishKey: string,
      ...argv: Arg[]
    ): Result<[1, string, number] | [0, string, string[]], Context>;
    roomcastMarkRead(reads: string, room: string, id: string): Result<string, Context>;
    roomcastPresenceAdd(...keysAndArgv: Arg[]): Result<[number, number, string], Context>;
    roomcastPresenceRemove(...keysAndArgv: Arg[]): Result<[number, number, string], Context>;
    roomcastOnlineRoomSet(rooms: string, versions: string, room: string, connections: number, version: string): Result<number, Context>;
    roomcastPresenceRead(
      hash: string,
      users: string,
      stats: string,
      gate: string,
      listMax: number,
      intervalMs: number,
      copiesPerSecond: number,
    ): Result<[0, number] | [1, number, number, number, string, string[]], Context>;
    roomcastPresencePublish(stats: string, version: string, channel: string, event: string): Result<number, Context>;
    roomcastPresenceNodeGone(nodeMembers: string, alive: string): Result<number, Context>;
    roomcastTakeToken(bucket: string, rate: number, burst: number): Result<[number, number], Context>;
    roomcastReplayStart(stream: string, since: string, maxBytes: number, overhead: number): Result<[string, number], Context>;
  }
}

/** Teaches a client the scripts (idempotent: a client shared by several apps learns them once). */
export function defineScripts(redis: RedisClient): void {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
}
