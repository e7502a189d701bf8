import type { Redis, Result } from 'ioredis';

/**
 * Every server-side Lua script of the Redis backend. Each runs atomically, so what it reads and
 * what it publishes describe one moment: a message is stored and fanned out in one step, and a
 * presence frame is built from the very state the script just changed. Key names reach the
 * scripts as KEYS (from keys.ts), never spelled here; `defineCommand` sends them by EVALSHA and
 * falls back to EVAL after a Redis restart has emptied the script cache.
 */

/**
 * Appends a chat message to the room's log, trims the log to its limit (remembering the newest
 * ID it dropped, for incomplete resumes), restarts the room's idle clock and publishes the
 * message to the room's group: the order of the log is the order of the fan-out because both
 * happen in one script.
 *
 * Every step that can fail runs in `prepare`, before the first write: a script that failed
 * after XADD would leave a message stored, and later replayed, that its sender was told was not
 * stored, and that live listeners never got (a ghost). After the write there is only string
 * joining and commands that cannot fail on our own keys; and Redis refuses a script's first
 * write (not a later one) when it is out of memory, so an OOM refusal also stores nothing.
 *
 * KEYS: log stream, trimmed-through marker.
 * ARGV: 1 history limit, 2 group channel, 3 text, 4 author ('' for an anonymous guest; see redis/history.ts), 5 frame text
 * before the ID, 6 frame text between the ID and the time, 7 sender channel, 8 nonce, 9 nonce
 * scope ('' for none of 7-9), 10 room idle TTL in ms (0: the room never expires).
 * `append()` returns the new message ID and its frame (the message as JSON).
 */
const APPEND_FUNCTION = `
local function refuse(what)
  return redis.error_reply('ERR roomcast append refused before writing: ' .. what)
end

local function prepare()
  local limit, ttl = tonumber(ARGV[1]), tonumber(ARGV[10])
  if not limit or limit < 1 or limit ~= math.floor(limit) then return nil, refuse('bad history limit') end
  if not ttl or ttl < 0 or ttl ~= math.floor(ttl) then return nil, refuse('bad room TTL') end
  if #ARGV[8] > 64 or not string.find(ARGV[8], '^[!-~]*$') then return nil, refuse('bad nonce') end
  if #ARGV[9] > 200 then return nil, refuse('bad scope') end
  -- The published event is JSON made here: after the write only the ID and the time are added.
  local before, between = cjson.encode(ARGV[5]), cjson.encode(ARGV[6])
  local origin = ''
  if ARGV[7] ~= '' then origin = origin .. ',"sender":' .. cjson.encode(ARGV[7]) end
  if ARGV[8] ~= '' then origin = origin .. ',"nonce":' .. cjson.encode(ARGV[8]) end
  return {
    limit = limit,
    ttl = ttl,
    before = string.sub(before, 1, -2),
    between = string.sub(between, 2, -2),
    origin = origin,
  }
end

local function append(p)
  local fields = {'message', ARGV[3]}
  if ARGV[4] ~= '' then
    fields[#fields + 1] = 'user'
    fields[#fields + 1] = ARGV[4]
  end
  if ARGV[8] ~= '' and ARGV[9] ~= '' then
    fields[#fields + 1] = 'nonce'
    fields[#fields + 1] = ARGV[8]
    fields[#fields + 1] = 'scope'
    fields[#fields + 1] = ARGV[9]
  end
  local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
  local excess = redis.call('XLEN', KEYS[1]) - p.limit
  if excess > 0 then
    local dropped = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
    redis.call('SET', KEYS[2], dropped[#dropped][1])
    redis.call('XTRIM', KEYS[1], 'MAXLEN', p.limit)
  end
  if p.ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], p.ttl)
    redis.call('PEXPIRE', KEYS[2], p.ttl)
  end
  local ts = string.match(id, '^(%d+)')
  local frame = ARGV[5] .. id .. ARGV[6] .. ts .. '}'
  redis.call('PUBLISH', ARGV[2], '{"type":"chat.message","id":"' .. id .. '","frame":' .. p.before .. id .. p.between .. ts
    .. '}"' .. p.origin .. '}')
  return id, frame
end
`;

/** Appends and publishes (see APPEND_FUNCTION). Returns the new message ID. */
const APPEND = `${APPEND_FUNCTION}
local p, refused = prepare()
if not p then return refused end
return (append(p))
`;

/**
 * Appends and publishes unless the publish key (a scoped socket nonce, an Idempotency-Key) was
 * used before, and remembers the key: the check, the append and the record are one atomic step,
 * so a keyed publish costs one round trip like any other. The key holds the message ID only
 * (about 100 bytes in Redis, whatever the message), for at most ARGV[11] ms.
 *
 * KEYS: log stream, trimmed-through marker, publish key.
 * ARGV: as APPEND, then 11 how long the key is remembered (ms).
 * Returns {1, new ID} when stored; {0, the first message's ID, its stream fields (empty once
 * trimmed)} when the key was used.
 */
const APPEND_ONCE = `${APPEND_FUNCTION}
local p, refused = prepare()
if not p then return refused end
local keyTtl = tonumber(ARGV[11])
if not keyTtl or keyTtl < 1 or keyTtl ~= math.floor(keyTtl) then return refuse('bad key TTL') end
local prior = redis.call('GET', KEYS[3])
if prior then
  if not string.find(prior, '^%d+%-%d+$') then return refuse('the publish key holds no message ID') end
  local entry = redis.call('XRANGE', KEYS[1], prior, prior)[1]
  return {0, prior, entry and entry[2] or {}}
end
local id = append(p)
redis.call('SET', KEYS[3], id, 'PX', keyTtl)
return {1, id}
`;

/**
 * Shared by the presence scripts: keeps the online-rooms index in step with the room's hash and
 * publishes the room's presence frame, in the key order of `presenceEvent` (type, room, users,
 * guests, anonymous), users and guests distinct and sorted; a `~NAME` value is a named guest.
 */
const PRESENCE_HELPERS = `
local function recount(hash, online, room)
  local n = redis.call('HLEN', hash)
  if n == 0 then
    redis.call('ZREM', online, room)
  else
    redis.call('ZADD', online, n, room)
  end
end

local function announce(hash, room, channel)
  local seen, users, guests, anonymous = {}, {}, {}, 0
  for _, user in ipairs(redis.call('HVALS', hash)) do
    local guest = string.sub(user, 1, 1) == '~'
    if user == '' or guest then anonymous = anonymous + 1 end
    if user ~= '' and not seen[user] then
      seen[user] = true
      if guest then guests[#guests + 1] = string.sub(user, 2) else users[#users + 1] = user end
    end
  end
  table.sort(users)
  table.sort(guests)
  for i, user in ipairs(users) do users[i] = cjson.encode(user) end
  for i, guest in ipairs(guests) do guests[i] = cjson.encode(guest) end
  local frame = '{"type":"presence","room":' .. cjson.encode(room) .. ',"users":[' .. table.concat(users, ',')
    .. '],"guests":[' .. table.concat(guests, ',') .. '],"anonymous":' .. anonymous .. '}'
  redis.call('PUBLISH', channel, cjson.encode({type = 'presence', frame = frame}))
end
`;

/**
 * Adds (or re-adds, after a heal) members of one node to a room, and announces the room when a
 * member was new or when asked to.
 *
 * KEYS: room presence hash, online rooms, node members set, presence nodes set.
 * ARGV: room, group channel, node ID, '1' to announce even if nothing changed, then pairs of
 * member and user ('' for anonymous). Returns the number of members that were new.
 */
const PRESENCE_ADD = `${PRESENCE_HELPERS}
local room, added = ARGV[1], 0
for i = 5, #ARGV, 2 do
  if redis.call('HGET', KEYS[1], ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    added = added + 1
  end
  redis.call('SADD', KEYS[3], room .. '|' .. ARGV[i])
end
if #ARGV >= 5 then redis.call('SADD', KEYS[4], ARGV[3]) end
recount(KEYS[1], KEYS[2], room)
if added > 0 or ARGV[4] == '1' then announce(KEYS[1], room, ARGV[2]) end
return added
`;

/**
 * Removes members of one node from a room and announces the room if any was there. With the
 * dead-only flag it does nothing while the node's alive key exists: a sweeper that read a node's
 * members just before the node came back must not remove them.
 *
 * KEYS: room presence hash, online rooms, node members set, node alive key.
 * ARGV: room, group channel, '1' for dead-only, then members. Returns the number removed.
 */
const PRESENCE_REMOVE = `${PRESENCE_HELPERS}
if ARGV[3] == '1' and redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local room, removed = ARGV[1], 0
for i = 4, #ARGV do
  removed = removed + redis.call('HDEL', KEYS[1], ARGV[i])
  redis.call('SREM', KEYS[3], room .. '|' .. ARGV[i])
end
recount(KEYS[1], KEYS[2], room)
if removed > 0 then announce(KEYS[1], room, ARGV[2]) end
return removed
`;

/**
 * Forgets a node that is dead and has no presence entries left.
 *
 * KEYS: presence nodes set, node members set, node alive key. ARGV: node ID.
 * Returns 1 when forgotten.
 */
const PRESENCE_FORGET_NODE = `
if redis.call('EXISTS', KEYS[3]) == 0 and redis.call('SCARD', KEYS[2]) == 0 then
  return redis.call('SREM', KEYS[1], ARGV[1])
end
return 0
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

const SCRIPTS = {
  roomcastAppend: { numberOfKeys: 2, lua: APPEND },
  roomcastAppendOnce: { numberOfKeys: 3, lua: APPEND_ONCE },
  roomcastPresenceAdd: { numberOfKeys: 4, lua: PRESENCE_ADD },
  roomcastPresenceRemove: { numberOfKeys: 4, lua: PRESENCE_REMOVE },
  roomcastPresenceForgetNode: { numberOfKeys: 3, lua: PRESENCE_FORGET_NODE },
  roomcastTakeToken: { numberOfKeys: 1, lua: TAKE_TOKEN },
} as const;

type Arg = string | number;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    roomcastAppend(stream: string, trimmed: string, ...argv: Arg[]): Result<string, Context>;
    roomcastAppendOnce(stream: string, trimmed: string, publishKey: string, ...argv: Arg[]): Result<[number, string, string[]?], Context>;
    roomcastPresenceAdd(hash: string, online: string, nodeMembers: string, nodes: string, ...argv: Arg[]): Result<number, Context>;
    roomcastPresenceRemove(hash: string, online: string, nodeMembers: string, alive: string, ...argv: Arg[]): Result<number, Context>;
    roomcastPresenceForgetNode(nodes: string, nodeMembers: string, alive: string, node: string): Result<number, Context>;
    roomcastTakeToken(bucket: string, rate: number, burst: number): Result<[number, number], Context>;
  }
}

/** Teaches a client the scripts (idempotent: a client shared by several apps learns them once). */
export function defineScripts(redis: Redis): void {
  for (const [name, definition] of Object.entries(SCRIPTS)) {
    if (!(name in redis)) redis.defineCommand(name, definition);
  }
}
