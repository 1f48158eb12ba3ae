"""Every Lua script the store runs, and the pieces they share. Only `streamer.storage.store`
registers and calls them; their callers elsewhere go through its methods.

Three scripts commit batches, all with the same rule: batch `seq` applies only if the
checkpoint it names holds the batch before it, and moves that checkpoint in the same atomic
step, so a batch lands once or not at all (see `streamer.delivery`):

- `COMMIT`: a whole batch on one Redis;
- `LANGUAGE_PART` and `INSTANCE_PART`: a batch cut in parts that each live in one hash slot of a
  Redis Cluster, which cannot run one script over many slots.

Every list they push to is trimmed in the same step (`PUSH_CAPPED`).
"""

from __future__ import annotations

# RPUSH in slices: Lua's unpack() has a stack limit.
_PUSH_SLICE = 1000

# `push(key, values)`: RPUSH in slices, then LTRIM to the calling script's local `cap`, so no
# list outgrows its cap.
PUSH_CAPPED = f"""
local function push(key, values)
  for s = 1, #values, {_PUSH_SLICE} do
    redis.call("RPUSH", key, unpack(values, s, math.min(s + {_PUSH_SLICE - 1}, #values)))
  end
  redis.call("LTRIM", key, -cap, -1)
end
"""

# --- geolocation: points carry their source ---
# `with_time(point, t)`: a packed point (`streamer.core.records.pack_point`) as stored: an
# inferred "[lat,lon,source,km]" becomes "[lat,lon,t,source,km]" (the time goes after the second
# comma: JSON numbers hold none), an exact "[lat,lon]" becomes "[lat,lon,t]".
# `source_of(entry)`: the source word in a point, "exact" when it has none (stats `geo:<source>`).
GEO_POINTS = """
local function with_time(point, t)
  local first = string.find(point, ",", 1, true)
  local second = first and string.find(point, ",", first + 1, true)
  if second then
    return string.sub(point, 1, second - 1) .. "," .. t .. string.sub(point, second)
  end
  return string.sub(point, 1, -2) .. "," .. t .. "]"
end
local function source_of(point)
  return string.match(point, '"(%a+)"') or "exact"
end
"""
# --- end geolocation ---

# `read_pairs(i)`: a table {name = number} from a count at ARGV[i] and that many name, value
# pairs after it, and the index after them.
_READ_PAIRS = """
local function read_pairs(i)
  local out = {}
  local n = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, n do out[ARGV[i]] = tonumber(ARGV[i + 1]); i = i + 2 end
  return out, i
end
"""

# A batch's commit on one Redis, one atomic script: it applies batch number `seq` only if the
# checkpoint says `seq - 1` was the last one applied, and moves the checkpoint (sequence number
# and the source's position) in the same step. So a batch lands once or not at all, and a Redis
# that lost its last second says so (a gap) instead of silently missing batches.
# With de-duplication on (resumable streams that repeat themselves on restart), a post whose
# id was seen within the TTL is counted as a duplicate and not stored again.
# ARGV: hashtag prefix, geo prefix, stats prefix, seen prefix, languages key, pipeline key,
#       cap, ttl, checkpoint key, seq, expected previous seq ("" = any), position, now,
#       dedupe (1/0), point time, counter count, counter pairs...,
#       count of pairs that one duplicate adds to the counters, those pairs...
#       (`streamer.storage.store.PER_DUPLICATE`: the rule is stated once, in Python),
#       then the posts as one JSON array (`streamer.core.records.pack_records`): per post
#       [seen id or "", lang, "[lat,lon,source,km]" or "", tags...]. Each point is stored as
#       "[lat,lon,point time,source,km]" (`with_time`), and counted in the language's stats
#       as `geo` and `geo:<source>`. One JSON argument instead of several per post:
#       the event loop then never touches a post, and cjson decodes it in C.
# Returns {status, committed seq, duplicates}: 0 applied, 1 already applied, 2 gap.
COMMIT = (
    _READ_PAIRS
    + GEO_POINTS
    + """
local a = ARGV
local tag_p, geo_p, stats_p, seen_p = a[1], a[2], a[3], a[4]
local langs_key, pipe_key, cap, ttl = a[5], a[6], tonumber(a[7]), a[8]
local ckpt, seq, expected = a[9], tonumber(a[10]), a[11]
local position, now, dedupe = a[12], a[13], a[14] == "1"
local point_t = a[15]
local committed = tonumber(redis.call("HGET", ckpt, "seq") or "0")
if seq <= committed then return {1, committed, 0} end
if expected == "" then
  if committed ~= seq - 1 then return {2, committed, 0} end
elseif committed ~= tonumber(expected) then
  return {2, committed, 0}
end
local counters, i = read_pairs(16)
local per_duplicate
per_duplicate, i = read_pairs(i)
local posts = cjson.decode(a[i])
-- A script error does not undo the writes before it, so every key this batch writes is
-- checked first: a key of another type refuses the whole batch, unwritten.
local want = {[pipe_key] = "hash", [langs_key] = "set", [ckpt] = "hash"}
for _, post in ipairs(posts) do
  local lang = post[2]
  want[stats_p .. lang] = "hash"; want[tag_p .. lang] = "list"; want[geo_p .. lang] = "list"
end
for key, kind in pairs(want) do
  local held = redis.call("TYPE", key)["ok"]
  if held ~= "none" and held ~= kind then
    return redis.error_reply("WRONGTYPE " .. key .. " holds a " .. held .. ", not a " .. kind)
  end
end
local order, tweets, tags, points, sources = {}, {}, {}, {}, {}
local dups = 0
for _, post in ipairs(posts) do
  local id, lang, point = post[1], post[2], post[3]
  local fresh = true
  if dedupe and id ~= "" then fresh = redis.call("SET", seen_p .. id, "1", "NX", "EX", ttl) end
  if fresh then
    if not tweets[lang] then
      tweets[lang] = 0; tags[lang] = {}; points[lang] = {}; sources[lang] = {}
      table.insert(order, lang)
    end
    tweets[lang] = tweets[lang] + 1
    local into = tags[lang]
    for t = 4, #post do into[#into + 1] = post[t] end
    if point ~= "" then
      table.insert(points[lang], with_time(point, point_t))
      local source = source_of(point)
      sources[lang][source] = (sources[lang][source] or 0) + 1
    end
  else
    dups = dups + 1
  end
end
"""
    + PUSH_CAPPED
    + """
for _, lang in ipairs(order) do
  local stats = stats_p .. lang
  redis.call("HINCRBY", stats, "tweets", tweets[lang])
  if #tags[lang] > 0 then
    push(tag_p .. lang, tags[lang])
    redis.call("HINCRBY", stats, "hashtags", #tags[lang])
  end
  if #points[lang] > 0 then
    push(geo_p .. lang, points[lang])
    redis.call("HINCRBY", stats, "geo", #points[lang])
    for source, n in pairs(sources[lang]) do redis.call("HINCRBY", stats, "geo:" .. source, n) end
  end
  redis.call("SADD", langs_key, lang)
end
if dups > 0 then
  for name, step in pairs(per_duplicate) do counters[name] = (counters[name] or 0) + step * dups end
end
for name, value in pairs(counters) do
  if value ~= 0 then redis.call("HINCRBY", pipe_key, name, value) end
end
redis.call("HSET", ckpt, "seq", seq, "position", position, "updated_at", now)
return {0, seq, dups}
"""
)

# One language part of one batch on a Redis Cluster. Every key is declared (redis-py routes
# EVALSHA by KEYS, and they all share the language's hash tag, so one slot).
# KEYS: (instance, language) checkpoint, stats, hashtag list, geo list, then one de-dup key
#       per post that has an id (de-duplication on).
# ARGV: seq, previous seq of this chain, cap, ttl, now,
#       then per post: its de-dup key's index in KEYS (0: none), tag count, tags..., point ("").
# Returns {status, checkpoint seq, duplicates}: 0 applied, 1 already applied (duplicates as
# stored when the checkpoint is this very batch), 2 gap (the checkpoint is not `prev`).
LANGUAGE_PART = (
    GEO_POINTS
    + """
local seq, prev = tonumber(ARGV[1]), tonumber(ARGV[2])
local cap, ttl = tonumber(ARGV[3]), ARGV[4]
local row = redis.call("HMGET", KEYS[1], "seq", "duplicates")
local committed = tonumber(row[1] or "0")
if seq <= committed then
  local d = 0
  if seq == committed then d = tonumber(row[2] or "0") end
  return {1, committed, d}
end
if committed ~= prev then return {2, committed, 0} end
local tweets, tags, points, dups, sources = 0, {}, {}, 0, {}
local i = 6
while i <= #ARGV do
  local seen, ntags = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  i = i + 2
  local fresh = true
  if seen > 0 then fresh = redis.call("SET", KEYS[seen], "1", "NX", "EX", ttl) end
  if fresh then
    tweets = tweets + 1
    for t = 0, ntags - 1 do table.insert(tags, ARGV[i + t]) end
    local point = ARGV[i + ntags]
    if point ~= "" then
      table.insert(points, point)
      local source = source_of(point)
      sources[source] = (sources[source] or 0) + 1
    end
  else
    dups = dups + 1
  end
  i = i + ntags + 1
end
"""
    + PUSH_CAPPED
    + """
if tweets > 0 then
  redis.call("HINCRBY", KEYS[2], "tweets", tweets)
  if #tags > 0 then
    push(KEYS[3], tags)
    redis.call("HINCRBY", KEYS[2], "hashtags", #tags)
  end
  if #points > 0 then
    push(KEYS[4], points)
    redis.call("HINCRBY", KEYS[2], "geo", #points)
    for source, n in pairs(sources) do redis.call("HINCRBY", KEYS[2], "geo:" .. source, n) end
  end
end
redis.call("HSET", KEYS[1], "seq", seq, "duplicates", dups, "updated_at", ARGV[5])
return {0, seq, dups}
"""
)

# The instance part of one batch on a Redis Cluster, after all its language parts. Its
# counters come already corrected for the duplicates the language parts found
# (`streamer.storage.store.count_duplicates`).
# KEYS: checkpoint:{instance}, pipeline:{instance}.
# ARGV: seq, previous seq of the instance chain, position (JSON), now, counter pairs...
# Returns {status, checkpoint seq} as above.
INSTANCE_PART = """
local seq, prev = tonumber(ARGV[1]), tonumber(ARGV[2])
local committed = tonumber(redis.call("HGET", KEYS[1], "seq") or "0")
if seq <= committed then return {1, committed} end
if committed ~= prev then return {2, committed} end
for i = 5, #ARGV, 2 do
  local value = tonumber(ARGV[i + 1])
  if value ~= 0 then redis.call("HINCRBY", KEYS[2], ARGV[i], value) end
end
redis.call("HSET", KEYS[1], "seq", seq, "position", ARGV[3], "updated_at", ARGV[4])
return {0, seq}
"""

# Evict users beyond the window's size or age, from the window and both user hashes.
# KEYS: users:seen, users, user_cluster. ARGV: max users, oldest score kept.
TRIM_USERS = """
local evict = {}
local over = redis.call("ZCARD", KEYS[1]) - tonumber(ARGV[1])
if over > 0 then evict = redis.call("ZRANGE", KEYS[1], 0, over - 1) end
local old = redis.call("ZRANGEBYSCORE", KEYS[1], "-inf", "(" .. ARGV[2], "LIMIT", 0, 50000)
for _, id in ipairs(old) do table.insert(evict, id) end
for s = 1, #evict, 1000 do
  local part = {unpack(evict, s, math.min(s + 999, #evict))}
  redis.call("ZREM", KEYS[1], unpack(part))
  redis.call("HDEL", KEYS[2], unpack(part))
  redis.call("HDEL", KEYS[3], unpack(part))
end
return #evict
"""

# Remember users: their JSON value and when they were seen. KEYS: users, users:seen.
# ARGV: the time as the value's last item, the time as a score, then the users as one JSON
# array (`streamer.core.records.pack_users`): user id, value up to the time, user id, ...
UPDATE_USERS = """
local users = cjson.decode(ARGV[3])
local tail, score = ARGV[1] .. "]", ARGV[2]
local values, seen = {}, {}
for i = 1, #users, 2 do
  values[#values + 1] = users[i]
  values[#values + 1] = users[i + 1] .. tail
  seen[#seen + 1] = score
  seen[#seen + 1] = users[i]
end
for s = 1, #values, 1000 do
  redis.call("HSET", KEYS[1], unpack(values, s, math.min(s + 999, #values)))
  redis.call("ZADD", KEYS[2], unpack(seen, s, math.min(s + 999, #seen)))
end
return #users / 2
"""
