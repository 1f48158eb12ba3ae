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

# --- trends (docs/trends.md): a batch's event-time counts, applied inside its commit ---
# The commit scripts apply a batch's trend cells (`streamer.core.trend_packing`) in the same
# atomic step that checks and moves the checkpoint, so a retried, re-sent or replayed batch
# never counts twice. The event clock (`trend_counts.EventClock`) lives in Redis, in a hash
# instance -> newest bucket, and is read and moved in that step too: `trend_apply` is
# `EventClock.admit` (cells behind newest - lateness are late) followed by the capped merge of
# `trend_store.APPLY_LUA` (`merge_capped`), so a restart continues the clock exactly.
# `prefix_of(lang)` is where a language's trend keys start (`Keys.trend_lang_prefix`).
# `trend_cap(counts, meta, top_k)`: a minute's counts cut back to its `top_k` largest, the
# mass it dropped kept in the minute's meta hash (`evicted`, `evicted_max`).
TREND_CAP = """
local function trend_cap(counts, meta, top_k)
  local excess = redis.call("ZCARD", counts) - top_k
  if excess <= 0 then return end
  local gone = redis.call("ZRANGE", counts, 0, excess - 1, "WITHSCORES")
  local mass, top = 0, 0
  for j = 2, #gone, 2 do
    local n = tonumber(gone[j])
    mass = mass + n
    if n > top then top = n end
  end
  redis.call("ZREMRANGEBYRANK", counts, 0, excess - 1)
  redis.call("HINCRBY", meta, "evicted", mass)
  if top > tonumber(redis.call("HGET", meta, "evicted_max") or "0") then
    redis.call("HSET", meta, "evicted_max", top)
  end
end
"""

TREND_APPLY = (
    TREND_CAP
    + """
-- Returns late posts (the batch's own and the cells behind the clock), undated posts,
-- the languages written, and the new newest bucket when the clock moved (else nil).
local function trend_apply(t, prefix_of, clock, instance, lateness, top_k, ttl)
  local held = redis.call("HGET", clock, instance)
  local mark = nil
  if held then mark = tonumber(held) - lateness end
  local late, written = t[2], {}
  for c = 4, #t do
    local lang, bucket, posts, flat = t[c][1], t[c][2], t[c][3], t[c][4]
    if mark and bucket < mark then
      late = late + posts
    else
      local p, b = prefix_of(lang), string.format("%d", bucket)
      local counts, meta = p .. b, p .. b .. ":n"
      for j = 1, #flat, 2 do redis.call("ZINCRBY", counts, flat[j + 1], flat[j]) end
      redis.call("HINCRBY", meta, "posts", posts)
      trend_cap(counts, meta, top_k)
      redis.call("EXPIRE", counts, ttl)
      redis.call("EXPIRE", meta, ttl)
      redis.call("ZADD", p .. "buckets", bucket, b)
      redis.call("EXPIRE", p .. "buckets", ttl)
      written[lang] = true
    end
  end
  local moved = nil
  if t[1] >= 0 and (not held or t[1] > tonumber(held)) then
    moved = t[1]
    redis.call("HSET", clock, instance, string.format("%d", moved))
  end
  redis.call("EXPIRE", clock, ttl)
  return late, t[3], written, moved
end
-- Delete a language's buckets older than `oldest` (event time): run when the clock moved.
local function trend_prune(p, oldest)
  local gone = redis.call("ZRANGEBYSCORE", p .. "buckets", "-inf", "(" .. oldest)
  for _, b in ipairs(gone) do redis.call("DEL", p .. b, p .. b .. ":n") end
  if #gone > 0 then redis.call("ZREMRANGEBYSCORE", p .. "buckets", "-inf", "(" .. oldest) end
end
-- The newest points of each tag: capped lists, and per language an index (tag -> when its
-- list last grew) capped to `max_tags`, the least recent lists deleted first.
local function trend_points(p, by_tag, cap, max_tags, ttl, now)
  local index = p .. "pointtags"
  for tag, pts in pairs(by_tag) do
    local key = p .. "points:" .. tag
    for s = 1, #pts, 1000 do
      redis.call("RPUSH", key, unpack(pts, s, math.min(s + 999, #pts)))
    end
    redis.call("LTRIM", key, -cap, -1)
    redis.call("EXPIRE", key, ttl)
    redis.call("ZADD", index, now, tag)
  end
  local excess = redis.call("ZCARD", index) - max_tags
  if excess > 0 then
    for _, tag in ipairs(redis.call("ZRANGE", index, 0, excess - 1)) do
      redis.call("DEL", p .. "points:" .. tag)
    end
    redis.call("ZREMRANGEBYRANK", index, 0, excess - 1)
  end
  redis.call("EXPIRE", index, ttl)
end
"""
)
# --- end trends ---

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
#       Trends, after the posts: the batch's packed trend counts ("" = none), the trend key
#       prefix, the clock key, the trend languages key, instance, lateness, top_k, retention
#       (s), points per tag, tags with points per language (`TREND_APPLY`).
# Returns {status, committed seq, duplicates}: 0 applied, 1 already applied, 2 gap.
COMMIT = (
    _READ_PAIRS
    + GEO_POINTS
    + TREND_APPLY
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
local batch_langs = {}  -- each language once: its keys are named once, not once per post
for _, post in ipairs(posts) do batch_langs[post[2]] = true end
for lang in pairs(batch_langs) do
  want[stats_p .. lang] = "hash"; want[tag_p .. lang] = "list"; want[geo_p .. lang] = "list"
end
-- trends: the batch's cells and the keys they write
local trends, trend_p = nil, a[i + 2]
local tag_points = 0
local function trend_prefix(lang) return trend_p .. lang .. ":" end
if a[i + 1] ~= "" then
  trends = cjson.decode(a[i + 1])
  tag_points = tonumber(a[i + 9])
  want[a[i + 3]] = "hash"; want[a[i + 4]] = "set"
  for c = 4, #trends do
    local p, b = trend_prefix(trends[c][1]), string.format("%d", trends[c][2])
    want[p .. b] = "zset"; want[p .. b .. ":n"] = "hash"; want[p .. "buckets"] = "zset"
  end
  if tag_points > 0 then
    local tagged = {}  -- lang -> the set of its located posts' tags
    for _, post in ipairs(posts) do
      if post[3] ~= "" and #post > 3 then
        local set = tagged[post[2]]
        if not set then set = {}; tagged[post[2]] = set end
        for t = 4, #post do set[post[t]] = true end
      end
    end
    for lang, set in pairs(tagged) do
      local p = trend_prefix(lang)
      want[p .. "pointtags"] = "zset"
      for tag in pairs(set) do want[p .. "points:" .. tag] = "list" end
    end
  end
end
-- end trends
for key, kind in pairs(want) do
  local held = redis.call("TYPE", key)["ok"]
  if held ~= "none" and held ~= kind then
    return redis.error_reply("WRONGTYPE " .. key .. " holds a " .. held .. ", not a " .. kind)
  end
end
local order, tweets, tags, points, sources = {}, {}, {}, {}, {}
local tag_pts = {}  -- trends: lang -> tag -> points
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
    if trends and tag_points > 0 and point ~= "" and #post > 3 then  -- trends: points per tag
      local held = points[lang][#points[lang]]
      tag_pts[lang] = tag_pts[lang] or {}
      for t = 4, #post do
        local list = tag_pts[lang][post[t]] or {}
        list[#list + 1] = held
        tag_pts[lang][post[t]] = list
      end
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
if trends then  -- trends: counts behind the event clock, pruning, points per tag
  local ttl_t = tonumber(a[i + 8])
  local late, undated, written, moved = trend_apply(
    trends, trend_prefix, a[i + 3], a[i + 5], tonumber(a[i + 6]), tonumber(a[i + 7]), ttl_t)
  for lang in pairs(written) do redis.call("SADD", a[i + 4], lang) end
  if moved then
    for _, lang in ipairs(redis.call("SMEMBERS", a[i + 4])) do
      trend_prune(trend_prefix(lang), moved - ttl_t)
    end
  end
  for lang, by_tag in pairs(tag_pts) do
    trend_points(trend_prefix(lang), by_tag, tag_points, tonumber(a[i + 10]), ttl_t, a[13])
  end
  counters["trend_late"] = (counters["trend_late"] or 0) + late
  counters["trend_undated"] = (counters["trend_undated"] or 0) + undated
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
#       n, then n trend arguments (0: none; else the language's packed cells, its trend key
#       prefix, its clock key, instance, lateness, top_k, retention, points per tag, tags with
#       points: `TREND_APPLY`; posts behind the clock count as `trend_late` in its stats),
#       then per post: its de-dup key's index in KEYS (0: none), tag count, tags..., point ("").
# Returns {status, checkpoint seq, duplicates}: 0 applied, 1 already applied (duplicates as
# stored when the checkpoint is this very batch), 2 gap (the checkpoint is not `prev`).
LANGUAGE_PART = (
    GEO_POINTS
    + TREND_APPLY
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
local ntrend = tonumber(ARGV[6])  -- trends: arguments ARGV[7 .. 6 + ntrend]
local trends, tag_pts, tag_points = nil, {}, 0
if ntrend > 0 and ARGV[7] ~= "" then
  trends, tag_points = cjson.decode(ARGV[7]), tonumber(ARGV[14])
end
local i = 7 + ntrend
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
    if trends and tag_points > 0 and ARGV[i + ntags] ~= "" then  -- trends: points per tag
      for t = 0, ntags - 1 do
        local list = tag_pts[ARGV[i + t]] or {}
        list[#list + 1] = ARGV[i + ntags]
        tag_pts[ARGV[i + t]] = list
      end
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
if trends then  -- trends: counts behind the language's event clock, pruning, points per tag
  local p, ttl_t = ARGV[8], tonumber(ARGV[13])
  local late, _, _, moved = trend_apply(
    trends, function(_) return p end, ARGV[9], ARGV[10], tonumber(ARGV[11]),
    tonumber(ARGV[12]), ttl_t)
  if moved then trend_prune(p, moved - ttl_t) end
  if next(tag_pts) then trend_points(p, tag_pts, tag_points, tonumber(ARGV[15]), ttl_t, ARGV[5]) end
  if late > 0 then redis.call("HINCRBY", KEYS[2], "trend_late", late) end
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
