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
 * ID it dropped, for incomplete resumes) and publishes the message to the room's group: the
 * order of the log is the order of the fan-out because both happen in one script.
 *
 * KEYS: log stream, trimmed-through marker.
 * ARGV: limit, group channel, text, author ('' for an anonymous guest; see redis/history.ts), frame text before the ID, frame
 * text between the ID and the time, the event's other fields as JSON (sender, nonce).
 * `append()` returns the new message ID and its frame (the message as JSON).
 */
const APPEND_FUNCTION = `
local function append()
  local fields = {'message', ARGV[3]}
  if ARGV[4] ~= '' then
    fields[3] = 'user'
    fields[4] = ARGV[4]
  end
  local id = redis.call('XADD', KEYS[1], '*', unpack(fields))
  local limit = tonumber(ARGV[1])
  local excess = redis.call('XLEN', KEYS[1]) - limit
  if excess > 0 then
    local dropped = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
    redis.call('SET', KEYS[2], dropped[#dropped][1])
    redis.call('XTRIM', KEYS[1], 'MAXLEN', limit)
  end
  local frame = ARGV[5] .. id .. ARGV[6] .. string.match(id, '^(%d+)') .. '}'
  local event = cjson.decode(ARGV[7])
  event.type = 'chat.message'
  event.id = id
  event.frame = frame
  redis.call('PUBLISH', ARGV[2], cjson.encode(event))
  return id, frame
end
`;

/** Appends and publishes (see APPEND_FUNCTION). Returns the new message ID. */
const APPEND = `${APPEND_FUNCTION}
return (append())
`;

/**
 * Appends and publishes unless the publish key (a socket nonce, an Idempotency-Key) was used
 * before, and remembers the key with the message: the check, the append and the record are one
 * atomic step, so a keyed publish costs one round trip like any other. A value of '' is a claim
 * by the idempotency store's claim-then-append path, still in progress.
 *
 * KEYS: log stream, trimmed-through marker, publish key.
 * ARGV: as APPEND, then how long the key is remembered (ms).
 * Returns {1, new ID} when stored, {0, the first message's JSON or ''} when the key was used.
 */
const APPEND_ONCE = `${APPEND_FUNCTION}
local prior = redis.call('GET', KEYS[3])
if prior then return {0, prior} end
local id, frame = append()
redis.call('SET', KEYS[3], frame, 'PX', ARGV[8])
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
    roomcastAppendOnce(stream: string, trimmed: string, publishKey: string, ...argv: Arg[]): Result<[number, string], Context>;
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
