/**
 * Home timelines in Redis, chunked: a timeline of up to deps.timelineMaxEntries (800) entries is
 * an index `tl:{user}:i` and chunks `tl:{user}:{n}`, sorted sets of tweet ids scored by creation
 * time (ms) of at most CHUNK_MAX entries each. Why: Redis keeps a sorted set of up to 128 entries
 * (zset-max-listpack-entries) as one compact listpack and a larger one as a skiplist, about three
 * times the memory (800 entries in one key: ~109 KiB; chunked: ~45 KiB, bench/README.md), and
 * ElastiCache Serverless takes no parameter group to raise that threshold. Equal scores order by
 * member, and tweet ids sort by time, so the entries' order is the ids' order.
 *
 * The index (timelineKeys.homeTimeline) holds, by score:
 * - the chunks: member the chunk's number, score the lowest score it may hold; a chunk holds the
 *   entries from its score up to the next chunk's (the oldest also any below its own, and its score
 *   follows them down), so an entry's chunk is found by its score and one score is never split;
 * - `size`, scored minus the number of entries (so the chunks are exactly the scores above 0);
 * - markers at -inf, which tell a built timeline from a missing or half-built one:
 *   `built`: the timeline holds the newest entries (up to deps.timelineMaxEntries);
 *   `building:{token}`: a rebuild is under way; fanout already lands in the timeline;
 *   `floor:{score}`: the timeline was cut at its depth; older entries are read from DynamoDB.
 * Writers only ever add to timelines that exist, so a partial timeline is never taken for a full
 * one; a read that does not find `built` rebuilds from DynamoDB. Every chunk expires with its
 * index, and no chunk is ever empty, so a chunk missing from a built timeline was evicted alone
 * (the cache evicts least recently used keys): the script that finds that drops the whole
 * timeline, and the next read rebuilds it.
 *
 * Also the short-lived cache of the newest tweet ids of authors merged at read time (`recent:`).
 * Every call answers a cache failure as a miss, except the fanout's, which throw so that the
 * stream batch is retried.
 */
import { randomBytes } from 'node:crypto';
import type { CacheBatch, CacheScript } from '../cache-port';
import type { Deps } from '../ports';
import { followKeys, parseFollowGraph, type CachedFollowGraph } from '../follows/store-cache';
import { tweetTime, ULID_LENGTH } from '../ids';
import {
  TIMELINE_SENTINEL,
  TIMELINE_SIZE_MEMBER,
  timelineAuthorSuffix,
  timelineKeys,
  timelineMember,
  tweetIdOfMember,
} from './store-keys';
import { logger } from '../../platform/logger';
import { tombstoneTweetCommand } from '../tweets/store';

type CacheDeps = Pick<Deps, 'cache'>;

/** Short: a celebrity's new tweet must show within 2 s; the fanout also drops the entry. */
const RECENT_TTL_SECONDS = 2;

const TIMELINE_BUILDING_PREFIX = 'building:';
/**
 * `floor:{score}`: the timeline was cut at its depth, and holds every entry newer than that score
 * (ms) and none at or below it; a reader past its last entry goes on in DynamoDB. No floor: the
 * timeline holds every entry there is.
 */
const TIMELINE_FLOOR_PREFIX = 'floor:';
/** Home timelines not read for this long are evicted and rebuilt on the next read. */
const TIMELINE_TTL_SECONDS = 3 * 24 * 60 * 60;
/**
 * A read refreshes the expiry of the index and every chunk once an hour of it has passed, not on
 * every read (one PTTL instead of an EXPIRE per key).
 */
const TIMELINE_REFRESH_BELOW_MS = (TIMELINE_TTL_SECONDS - 60 * 60) * 1000;

/** Redis's default zset-max-listpack-entries: a chunk above it would become a skiplist. */
const CHUNK_MAX = 128;
/**
 * Entries a full chunk keeps when it splits, and a rebuild packs into one: the rest of 128 leaves
 * room for entries that arrive out of order (fanout is not strictly in time order).
 */
const CHUNK_FILL = 120;
/** Adds of more entries than this (a follow's backfill) rewrite the chunks in one pass. */
const BULK_ADD = 16;

/**
 * Lua shared by the timeline scripts (KEYS[1] is always the index). Scores are compared as numbers
 * (ms), never member strings (Lua compares those by locale). Chunks are keys the scripts do not
 * declare: they share the index's hash tag, so they are in its slot, which is all cluster mode
 * (and ElastiCache Serverless) requires of a script's keys.
 */
const TIMELINE_LUA = `
local INDEX = KEYS[1]
local BASE = string.sub(INDEX, 1, -2) -- chunk n is BASE .. n: the index's name without its 'i'
local SIZE = '${TIMELINE_SIZE_MEMBER}'
local function chunk_key(id) return BASE .. id end
local function markers_of()
  return redis.call('ZRANGE', INDEX, '-inf', '-inf', 'BYSCORE')
end
local function floor_in(markers)
  for _, member in ipairs(markers) do
    if string.sub(member, 1, ${TIMELINE_FLOOR_PREFIX.length}) == '${TIMELINE_FLOOR_PREFIX}' then
      return tonumber(string.sub(member, ${TIMELINE_FLOOR_PREFIX.length + 1})), member
    end
  end
  return nil, nil
end
local function raise_floor(score)
  local old, member = floor_in(markers_of())
  if old ~= nil and old >= tonumber(score) then return end
  if member ~= nil then redis.call('ZREM', INDEX, member) end
  redis.call('ZADD', INDEX, '-inf', '${TIMELINE_FLOOR_PREFIX}' .. score)
end
local function chunk_ids()
  return redis.call('ZRANGE', INDEX, '(0', '+inf', 'BYSCORE')
end
-- Changes the size by \`delta\`; the new size.
local function add_size(delta)
  return -tonumber(redis.call('ZINCRBY', INDEX, -delta, SIZE))
end
-- Removes members from one chunk; an emptied chunk leaves the index. How many were removed.
local function remove_from_chunk(id, ...)
  local removed = redis.call('ZREM', chunk_key(id), ...)
  if removed > 0 and redis.call('EXISTS', chunk_key(id)) == 0 then redis.call('ZREM', INDEX, id) end
  return removed
end
local function drop_timeline()
  for _, id in ipairs(chunk_ids()) do redis.call('DEL', chunk_key(id)) end
  redis.call('DEL', INDEX)
end
local function expire_all(seconds)
  redis.call('EXPIRE', INDEX, seconds)
  for _, id in ipairs(chunk_ids()) do redis.call('EXPIRE', chunk_key(id), seconds) end
end
local function expire_with_index(key)
  local ttl = redis.call('PTTL', INDEX)
  if ttl > 0 then redis.call('PEXPIRE', key, ttl) end
end
-- A new chunk whose entries start at \`lowest\`: the next free number, and its key deleted first
-- (a timeline whose index was evicted may have left a chunk under that name).
local function open_chunk(lowest)
  local top = 0
  for _, id in ipairs(chunk_ids()) do top = math.max(top, tonumber(id)) end
  local id = tostring(top + 1)
  redis.call('DEL', chunk_key(id))
  redis.call('ZADD', INDEX, lowest, id)
  return id
end
-- The chunk an entry of \`score\` is in: the one with the highest score at or below it, else the
-- oldest; nil when there is no chunk.
local function chunk_for(score)
  local found = redis.call('ZRANGE', INDEX, score, '(0', 'BYSCORE', 'REV', 'LIMIT', 0, 1)[1]
  if found ~= nil then return found end
  return redis.call('ZRANGE', INDEX, '(0', '+inf', 'BYSCORE', 'LIMIT', 0, 1)[1]
end
-- Moves a chunk's entries above its first CHUNK_FILL into a new chunk, never splitting a score.
local function split(id, card)
  local key = chunk_key(id)
  local bound = redis.call('ZRANGE', key, ${CHUNK_FILL}, ${CHUNK_FILL}, 'WITHSCORES')[2]
  local keep = redis.call('ZCOUNT', key, '-inf', '(' .. bound)
  if keep == 0 then
    keep = redis.call('ZCOUNT', key, '-inf', bound)
    if keep == card then return end -- one score throughout: it stays one chunk
    bound = redis.call('ZRANGE', key, keep, keep, 'WITHSCORES')[2]
  end
  local moved = redis.call('ZRANGE', key, keep, -1, 'WITHSCORES')
  local args = {}
  for i = 1, #moved, 2 do
    args[#args + 1] = moved[i + 1]
    args[#args + 1] = moved[i]
  end
  local new_key = chunk_key(open_chunk(bound))
  redis.call('ZADD', new_key, unpack(args))
  expire_with_index(new_key)
  redis.call('ZREMRANGEBYRANK', key, keep, -1)
end
-- Writes entries[from..] (sorted by score) into new chunks of CHUNK_FILL, one score never split.
local function write_chunks(entries, from)
  local i = from
  while i <= #entries do
    local j = math.min(i + ${CHUNK_FILL} - 1, #entries)
    while j < #entries and entries[j + 1][1] == entries[j][1] do j = j + 1 end
    local key = chunk_key(open_chunk(entries[i][2]))
    local args = {}
    for k = i, j do
      args[#args + 1] = entries[k][2]
      args[#args + 1] = entries[k][3]
    end
    redis.call('ZADD', key, unpack(args))
    expire_with_index(key)
    i = j + 1
  end
end
-- Rewrites the chunks with their entries and the score, member pairs ARGV[first..] (none at or
-- below the floor), packed, keeping the newest \`max\`; with \`given_cut\`, none at or below the
-- lowest score given either (a rebuild that read \`max\` entries may have left older ones unread).
local function rewrite(first, max, given_cut)
  local floor = floor_in(markers_of())
  local entries, seen = {}, {}
  for _, id in ipairs(chunk_ids()) do
    local key = chunk_key(id)
    local held = redis.call('ZRANGE', key, 0, -1, 'WITHSCORES')
    for i = 1, #held, 2 do
      seen[held[i]] = true
      entries[#entries + 1] = {tonumber(held[i + 1]), held[i + 1], held[i]}
    end
    redis.call('DEL', key)
    redis.call('ZREM', INDEX, id)
  end
  local lowest = nil
  for i = first, #ARGV, 2 do
    local score = tonumber(ARGV[i])
    if lowest == nil or score < lowest[1] then lowest = {score, ARGV[i]} end
    if not seen[ARGV[i + 1]] and (floor == nil or score > floor) then
      seen[ARGV[i + 1]] = true
      entries[#entries + 1] = {score, ARGV[i], ARGV[i + 1]}
    end
  end
  table.sort(entries, function(a, b) return a[1] < b[1] end)
  local cut = nil
  if #entries > max then cut = entries[#entries - max] end
  if given_cut and lowest ~= nil and (cut == nil or lowest[1] > cut[1]) then cut = lowest end
  local from = 1
  if cut ~= nil then
    raise_floor(cut[2])
    while from <= #entries and entries[from][1] <= cut[1] do from = from + 1 end
  end
  write_chunks(entries, from)
  redis.call('ZADD', INDEX, from - 1 - #entries, SIZE)
end
`;

/**
 * Adds entries to an existing home timeline (none at or below its floor), each into its chunk
 * (a full chunk splits), and trims it to the newest `max` entries. A missing timeline stays
 * missing: a partial timeline must never look complete, and the next read rebuilds it from
 * DynamoDB. A bulk add (a follow's backfill) rewrites the chunks in one pass instead.
 * KEYS[1] index; ARGV[1] max; ARGV[2..] score, member pairs.
 */
export const TIMELINE_ADD: CacheScript = {
  name: 'timelineChunksAdd',
  lua: `${TIMELINE_LUA}
-- One read of the whole index (a few members): the markers, the size and the chunks, which the
-- script then keeps up to date itself (the fanout runs this once per follower).
local index = redis.call('ZRANGE', INDEX, 0, -1, 'WITHSCORES')
if #index == 0 then return 0 end
local max = tonumber(ARGV[1])
if #ARGV - 1 > ${BULK_ADD} * 2 then
  rewrite(2, max, false)
  return 1
end
local floor, floor_member, size = nil, nil, 0
local chunks = {} -- {number, lowest score}, oldest first
for i = 1, #index, 2 do
  local score = index[i + 1]
  if score == '-inf' then
    if string.sub(index[i], 1, ${TIMELINE_FLOOR_PREFIX.length}) == '${TIMELINE_FLOOR_PREFIX}' then
      floor, floor_member = tonumber(string.sub(index[i], ${TIMELINE_FLOOR_PREFIX.length + 1})), index[i]
    end
  elseif tonumber(score) > 0 then
    chunks[#chunks + 1] = {index[i], tonumber(score)}
  else
    size = -tonumber(score)
  end
end
local function reload_chunks()
  chunks = {}
  local held = redis.call('ZRANGE', INDEX, '(0', '+inf', 'BYSCORE', 'WITHSCORES')
  for i = 1, #held, 2 do chunks[#chunks + 1] = {held[i], tonumber(held[i + 1])} end
end
-- The chunk of a score: the last whose lowest score is at or below it, else the oldest.
local function route(score)
  for i = #chunks, 1, -1 do
    if chunks[i][2] <= score then return i end
  end
  if #chunks > 0 then return 1 end
  return nil
end
-- Adds one entry into its chunk: 1, 0 when it was there, or false when its chunk is gone
-- (evicted alone). A full chunk splits before it takes one more: a sorted set that grew past 128
-- entries stays a skiplist even when it shrinks again.
local function add_entry(score, member)
  local s = tonumber(score)
  local i = route(s)
  if i == nil then
    local id = open_chunk(score)
    redis.call('ZADD', chunk_key(id), score, member)
    expire_with_index(chunk_key(id))
    chunks = {{id, s}}
    return 1
  end
  if s < chunks[i][2] then -- below every chunk: the oldest's lowest score follows it down
    redis.call('ZADD', INDEX, score, chunks[i][1])
    chunks[i][2] = s
  end
  local key = chunk_key(chunks[i][1])
  local card = redis.call('ZCARD', key)
  if card == 0 then return false end
  if card >= ${CHUNK_MAX} and redis.call('ZSCORE', key, member) == false then
    split(chunks[i][1], card)
    reload_chunks()
    key = chunk_key(chunks[route(s)][1])
  end
  return redis.call('ZADD', key, score, member)
end
-- Drops the oldest entries beyond max (and any sharing the last one's score) from the oldest
-- chunks, raising the floor; false when a chunk is gone.
local function trim()
  while size > max do
    if #chunks == 0 then return false end
    local excess = size - max
    local key = chunk_key(chunks[1][1])
    -- The excess oldest entries and one more, which tells whether the chunk goes whole.
    local head = redis.call('ZRANGE', key, 0, excess, 'WITHSCORES')
    if #head == 0 then return false end
    local cut = head[2 * math.min(excess, #head / 2)]
    if floor == nil or tonumber(cut) > floor then
      if floor_member ~= nil then redis.call('ZREM', INDEX, floor_member) end
      floor, floor_member = tonumber(cut), '${TIMELINE_FLOOR_PREFIX}' .. cut
      redis.call('ZADD', INDEX, '-inf', floor_member)
    end
    local removed = redis.call('ZREMRANGEBYSCORE', key, '-inf', cut)
    if removed >= #head / 2 and redis.call('EXISTS', key) == 0 then
      redis.call('ZREM', INDEX, chunks[1][1])
      table.remove(chunks, 1)
    end
    size = size - removed
  end
  return true
end
local added = 0
for i = 2, #ARGV, 2 do
  if floor == nil or tonumber(ARGV[i]) > floor then
    local one = add_entry(ARGV[i], ARGV[i + 1])
    if one == false then
      drop_timeline()
      return 0
    end
    added = added + one
  end
end
if added == 0 then return 1 end
size = size + added
if not trim() then
  drop_timeline()
  return 0
end
redis.call('ZADD', INDEX, -size, SIZE)
return 1`,
  numberOfKeys: 1,
};

/**
 * Removes entries from a timeline, each from its chunk (an emptied chunk leaves the index).
 * KEYS[1] index; ARGV[1..] score, member pairs.
 */
const TIMELINE_REMOVE: CacheScript = {
  name: 'timelineChunksRemove',
  lua: `${TIMELINE_LUA}
if redis.call('EXISTS', INDEX) == 0 then return 0 end
local removed = 0
for i = 1, #ARGV, 2 do
  local id = chunk_for(ARGV[i])
  if id ~= nil then removed = removed + remove_from_chunk(id, ARGV[i + 1]) end
end
if removed > 0 then add_size(-removed) end
return removed`,
  numberOfKeys: 1,
};

/**
 * Starts a rebuild: the index with a `building:{token}` marker (dropping a stale timeline first
 * when asked), and the unchunked key of before the chunks deleted.
 * KEYS[1] index; KEYS[2] the old unchunked key; ARGV[1] marker; ARGV[2] ttl; ARGV[3] '1' to drop.
 */
const TIMELINE_START_BUILD: CacheScript = {
  name: 'timelineChunksStartBuild',
  lua: `${TIMELINE_LUA}
redis.call('DEL', KEYS[2])
if ARGV[3] == '1' then drop_timeline() end
redis.call('ZADD', INDEX, '-inf', ARGV[1])
expire_all(ARGV[2])
return 1`,
  numberOfKeys: 2,
};

/**
 * Completes a rebuild started with a `building:{token}` marker: only if that marker is still there
 * (so a FLUSHALL, an eviction or an unfollow during the rebuild cannot leave a timeline that misses
 * tweets fanned out meanwhile, or holds an unfollowed author's), marks the timeline built and
 * rewrites its chunks with the entries read and those fanned out meanwhile, trimmed. A rebuild
 * that read `max` entries may have left older ones unread: its oldest score becomes the floor.
 * KEYS[1] index; ARGV[1] marker; ARGV[2] sentinel; ARGV[3] max; ARGV[4] ttl; ARGV[5..] pairs.
 */
const TIMELINE_FINISH_BUILD: CacheScript = {
  name: 'timelineChunksFinishBuild',
  lua: `${TIMELINE_LUA}
if redis.call('ZSCORE', INDEX, ARGV[1]) == false then return 0 end
redis.call('ZADD', INDEX, '-inf', ARGV[2])
redis.call('ZREM', INDEX, ARGV[1])
redis.call('EXPIRE', INDEX, ARGV[4])
local max = tonumber(ARGV[3])
local given = (#ARGV - 4) / 2
rewrite(5, max, given > 0 and given >= max)
return 1`,
  numberOfKeys: 1,
};

/**
 * Removes every entry of one author from a timeline: members end in the author's suffix after the
 * ULID (ULID_LENGTH characters; timelineAuthorSuffix), so the author is read from the member
 * itself, with no DynamoDB read. A timeline
 * still being rebuilt is dropped instead: its rebuild may have read the author as followed, and
 * must not finish (the next read rebuilds it).
 * KEYS[1] index; ARGV[1] the author's member suffix; ARGV[2] the built sentinel.
 */
const TIMELINE_REMOVE_AUTHOR: CacheScript = {
  name: 'timelineChunksRemoveAuthor',
  lua: `${TIMELINE_LUA}
if redis.call('ZSCORE', INDEX, ARGV[2]) == false then
  drop_timeline()
  return 0
end
local suffix = ARGV[1]
local removed = 0
for _, id in ipairs(chunk_ids()) do
  local key = chunk_key(id)
  local gone = {}
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    if #member == ${ULID_LENGTH} + #suffix and string.sub(member, ${ULID_LENGTH + 1}) == suffix then
      gone[#gone + 1] = member
    end
  end
  if #gone > 0 then removed = removed + remove_from_chunk(id, unpack(gone)) end
end
if removed > 0 then add_size(-removed) end
return removed`,
  numberOfKeys: 1,
};

/**
 * One page of a home timeline in one command: one read of the index (markers and chunks, newest
 * first), the newest chunk(s) the page needs, an expiry refresh when due, and the user's follow
 * graph. Both declared keys are the same user's and share a hash tag (followKeys in
 * ../follows/store-cache.ts), so the script runs in cluster mode (ElastiCache Serverless) without
 * CROSSSLOT. Ties at the cursor's score are returned whole, for the client to filter by id (Lua
 * string comparison depends on the server's locale).
 * KEYS[1] index; KEYS[2] companion key to GET; ARGV[1] sentinel; ARGV[2] ttl; ARGV[3] count;
 * ARGV[4] the cursor's score, or '' for the first page; ARGV[5] refresh the expiry below this (ms).
 * Returns {built (0/1), ties, entries below the cursor's score (or the newest), companion value,
 * floored (0/1): entries older than the timeline's last are in DynamoDB only}.
 */
const TIMELINE_PAGE: CacheScript = {
  name: 'timelineChunksPage',
  // Without TIMELINE_LUA: the hottest script defines only the little it uses.
  lua: `
local base = string.sub(KEYS[1], 1, -2)
local index = redis.call('ZRANGE', KEYS[1], '+inf', '-inf', 'BYSCORE', 'REV', 'WITHSCORES')
local built, floored = 0, 0
for i = #index - 1, 1, -2 do
  if index[i + 1] ~= '-inf' then break end
  if index[i] == ARGV[1] then
    built = 1
  elseif string.sub(index[i], 1, ${TIMELINE_FLOOR_PREFIX.length}) == '${TIMELINE_FLOOR_PREFIX}' then
    floored = 1
  end
end
local ties, rest = {}, {}
if built == 1 then
  local want = tonumber(ARGV[3])
  local cursor = tonumber(ARGV[4])
  local visited = false
  local chunks = 0
  for i = 1, #index, 2 do
    local lowest = tonumber(index[i + 1])
    if lowest <= 0 then break end -- past the chunks: the size and the markers follow
    chunks = i + 1
    if #rest < want and (cursor == nil or lowest <= cursor) then
      local key = base .. index[i]
      local got
      local tied = 0
      if cursor == nil then
        got = redis.call('ZRANGE', key, 0, want - #rest - 1, 'REV')
      else
        if not visited then -- entries at the cursor's score are all in its chunk, the first
          ties = redis.call('ZRANGE', key, ARGV[4], ARGV[4], 'BYSCORE')
          tied = #ties
        end
        got = redis.call('ZRANGE', key, '(' .. ARGV[4], '-inf', 'BYSCORE', 'REV', 'LIMIT', 0, want - #rest)
      end
      if #got == 0 and tied == 0 and redis.call('EXISTS', key) == 0 then
        built, ties, rest = 0, {}, {} -- a chunk evicted alone: drop the timeline, to be rebuilt
        for j = 1, #index, 2 do
          if tonumber(index[j + 1]) > 0 then redis.call('DEL', base .. index[j]) end
        end
        redis.call('DEL', KEYS[1])
        break
      end
      visited = true
      for _, id in ipairs(got) do rest[#rest + 1] = id end
    end
  end
  if built == 1 and redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
    for i = 1, chunks, 2 do redis.call('EXPIRE', base .. index[i], ARGV[2]) end
  end
end
return {built, ties, rest, redis.call('GET', KEYS[2]), floored}`,
  numberOfKeys: 2,
};

/** Score, member pairs of tweet ids (members: timelineMember). */
function pairs(tweetIds: readonly string[]): (string | number)[] {
  return tweetIds.flatMap((id) => [tweetTime(id), timelineMember(id)]);
}

/**
 * Timelines written per pipeline. Every command must finish within the client's short command
 * timeout, and Redis runs a pipeline's commands one after another, so huge fanouts go in chunks.
 */
const PIPELINE_CHUNK = 500;

export interface FanoutPacing {
  /** Most timelines written per second (CACHE_SIZING); 0: as fast as the cache answers. */
  readonly deliveriesPerSecond: number;
}

/**
 * How a chunk is retried: a throttled or timed-out chunk is sent again after a growing pause
 * (0.1, 0.2, 0.4, 0.8 s, each ±50 %), so a cache at its ECPU ceiling has time to catch up, and only
 * that chunk is repeated; the change fails (and its stream record is retried whole) only after
 * the last attempt. Re-adding an entry is a no-op, so a repeated chunk writes nothing twice.
 */
export const CHUNK_RETRY = { attempts: 5, firstDelayMs: 100 } as const;

/**
 * Chunks in flight at once when the fanout is unpaced: the client builds the next while Redis runs
 * the others (one at a time left both idle half the time); paced fanouts keep their schedule.
 */
export const UNPACED_CHUNKS_IN_FLIGHT = 3;

async function perTimeline(
  deps: CacheDeps,
  userIds: readonly string[],
  command: (batch: CacheBatch, key: string) => unknown,
  pacing: FanoutPacing = { deliveriesPerSecond: 0 },
): Promise<unknown[]> {
  const rate = pacing.deliveriesPerSecond;
  // Paced: chunks of a quarter second's deliveries, so the writes spread over each second.
  const chunk =
    rate > 0 ? Math.max(1, Math.min(PIPELINE_CHUNK, Math.floor(rate / 4))) : PIPELINE_CHUNK;
  const send = (i: number) =>
    deps.cache.batchOrThrow(
      (batch) => {
        for (const userId of userIds.slice(i, i + chunk)) {
          command(batch, timelineKeys.homeTimeline(userId));
        }
      },
      { attempts: CHUNK_RETRY.attempts, firstDelayMs: CHUNK_RETRY.firstDelayMs },
    );
  const starts: number[] = [];
  for (let i = 0; i < userIds.length; i += chunk) starts.push(i);
  const replies: unknown[][] = [];
  if (rate > 0) {
    const started = Date.now();
    for (const [n, i] of starts.entries()) {
      const due = started + (i / rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      replies[n] = await send(i);
    }
    return replies.flat();
  }
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < starts.length) {
      const n = next++;
      try {
        replies[n] = await send(starts[n]!);
      } catch (error) {
        failed = true; // no new chunks: the change fails and is retried whole
        throw error;
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(UNPACED_CHUNKS_IN_FLIGHT, starts.length) }, worker),
  );
  return replies.flat();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Adds tweets to each existing timeline among `userIds` (missing ones stay missing), trimmed to
 * the newest entries; one pipelined script call per timeline, in chunks paced to `pacing` and
 * each retried on its own (CHUNK_RETRY). Throws if a chunk still fails, so the fanout can report
 * the record for retry. Re-adding an entry is a no-op, so retries never
 * duplicate. Returns how many timelines existed and got the tweets.
 */
export async function addToTimelines(
  deps: CacheDeps,
  userIds: readonly string[],
  tweetIds: readonly string[],
  max: number,
  pacing?: FanoutPacing,
): Promise<number> {
  if (tweetIds.length === 0) return 0;
  const args = [max, ...pairs(tweetIds)];
  const replies = await perTimeline(
    deps,
    userIds,
    (batch, key) => batch.run(TIMELINE_ADD, [key], args),
    pacing,
  );
  return replies.filter((reply) => reply === 1).length;
}

/** Removes tweets from timelines; throws if Redis fails (the fanout retries). */
export async function removeFromTimelines(
  deps: CacheDeps,
  userIds: readonly string[],
  tweetIds: readonly string[],
): Promise<void> {
  if (tweetIds.length === 0) return;
  const args = pairs(tweetIds);
  await perTimeline(deps, userIds, (batch, key) => batch.run(TIMELINE_REMOVE, [key], args));
}

/** Runs a throwing cache call for a request, which must not fail because of Redis: true if done. */
async function bestEffort(what: string, call: () => Promise<unknown>): Promise<boolean> {
  try {
    await call();
    return true;
  } catch (error) {
    logger.debug('cache skipped', {
      what,
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/** Best-effort removal from one timeline (a request must not fail because of Redis). */
export async function removeFromTimeline(
  deps: CacheDeps,
  userId: string,
  tweetIds: readonly string[],
): Promise<void> {
  await bestEffort('timeline remove', () => removeFromTimelines(deps, [userId], tweetIds));
}

/** Best-effort add to one timeline, if it exists. False when Redis failed. */
export async function addToTimeline(
  deps: CacheDeps,
  userId: string,
  tweetIds: readonly string[],
  max: number,
): Promise<boolean> {
  return bestEffort('timeline add', () => addToTimelines(deps, [userId], tweetIds, max));
}

/**
 * Whether a user's home timeline is cached (built or being rebuilt); undefined when the cache
 * could not answer.
 */
export async function timelineExists(
  deps: CacheDeps,
  userId: string,
): Promise<boolean | undefined> {
  return deps.cache.exists('timeline exists', timelineKeys.homeTimeline(userId));
}

/**
 * Queues the removal of every entry of one author from a user's timeline (TIMELINE_REMOVE_AUTHOR),
 * on a batch of the caller's (the unfollow's cleanup, one round trip).
 */
export function queueRemoveAuthor(batch: CacheBatch, userId: string, author: string): void {
  batch.run(
    TIMELINE_REMOVE_AUTHOR,
    [timelineKeys.homeTimeline(userId)],
    [timelineAuthorSuffix(author), TIMELINE_SENTINEL],
  );
}

/**
 * A change's writes to its author's own caches, in one round trip: the author's own timeline (the
 * tweet added, or removed and its cached copy overwritten with a tombstone), and for an author
 * merged at read time their cached newest ids dropped. Throws on cache errors (the fanout retries).
 */
export async function updateAuthorCaches(
  deps: Pick<Deps, 'cache' | 'timelineMaxEntries'>,
  change: { readonly kind: 'insert' | 'remove'; readonly author: string; readonly tweetId: string },
  celebrity: boolean,
): Promise<void> {
  const { author, tweetId } = change;
  await deps.cache.batchOrThrow((own) => {
    if (change.kind === 'insert') {
      own.run(
        TIMELINE_ADD,
        [timelineKeys.homeTimeline(author)],
        [deps.timelineMaxEntries, tweetTime(tweetId), tweetId],
      );
    } else {
      own.run(TIMELINE_REMOVE, [timelineKeys.homeTimeline(author)], pairs([tweetId]));
      tombstoneTweetCommand(own, tweetId);
    }
    if (celebrity) own.del(timelineKeys.recentTweets(author));
  });
}

export interface StoredPage {
  /** False when the timeline is missing or half-built: the caller must rebuild it. */
  readonly built: boolean;
  /** Up to `count` tweet ids older than `before` (or the newest), newest first. */
  readonly tweetIds: string[];
  /** The user's cached follow graph (read in the same command); undefined when not cached. */
  readonly followGraph: CachedFollowGraph | undefined;
  /** The timeline was cut at its depth: entries older than its last one are in DynamoDB only. */
  readonly floored: boolean;
}

/**
 * Reads one page of a timeline with a single script call (one command, one reply: cheaper than a
 * pipeline for the hottest read): the `built` marker, the entries, an expiry refresh, and the
 * user's cached follow graph. Undefined when Redis is unavailable.
 */
export async function readStoredPage(
  deps: CacheDeps,
  userId: string,
  before: string | undefined,
  count: number,
): Promise<StoredPage | undefined> {
  const score = before === undefined ? '' : String(tweetTime(before));
  const reply = await deps.cache.run(
    'timeline page',
    TIMELINE_PAGE,
    [timelineKeys.homeTimeline(userId), followKeys.followGraph(userId)],
    [TIMELINE_SENTINEL, TIMELINE_TTL_SECONDS, count, score, TIMELINE_REFRESH_BELOW_MS],
  );
  if (reply === undefined) return undefined;
  const [built, ties, rest, graph, floored] = reply as [
    number,
    string[],
    string[],
    string | null,
    number,
  ];
  // Entries with the cursor's exact score sort by id: those below it come first, newest first.
  const below =
    before === undefined
      ? []
      : ties
          .map(tweetIdOfMember)
          .filter((id) => id < before)
          .reverse();
  return {
    built: built === 1,
    tweetIds: [...below, ...rest.map(tweetIdOfMember)].slice(0, count),
    followGraph: parseFollowGraph(graph),
    floored: floored === 1,
  };
}

/**
 * Starts a rebuild: creates the index with a `building:{token}` marker first, so fanout lands in
 * the timeline while DynamoDB is read. With `dropExisting`, a built but stale timeline is dropped
 * first, so it is not served as built meanwhile. The unchunked timeline key of before the chunks
 * (timelineKeys.legacyHomeTimeline) is deleted too. Undefined when Redis is unavailable.
 */
export async function startBuild(
  deps: CacheDeps,
  userId: string,
  dropExisting = false,
): Promise<string | undefined> {
  const marker = TIMELINE_BUILDING_PREFIX + randomBytes(8).toString('hex');
  const done = await deps.cache.run(
    'timeline build start',
    TIMELINE_START_BUILD,
    [timelineKeys.homeTimeline(userId), timelineKeys.legacyHomeTimeline(userId)],
    [marker, TIMELINE_TTL_SECONDS, dropExisting ? '1' : '0'],
  );
  return done === undefined ? undefined : marker;
}

/** Completes a rebuild with the entries read from DynamoDB, if its marker survived. */
export async function finishBuild(
  deps: CacheDeps,
  userId: string,
  marker: string,
  tweetIds: readonly string[],
  max: number,
): Promise<void> {
  await deps.cache.batch('timeline build finish', (batch) =>
    batch.run(
      TIMELINE_FINISH_BUILD,
      [timelineKeys.homeTimeline(userId)],
      [marker, TIMELINE_SENTINEL, max, TIMELINE_TTL_SECONDS, ...pairs(tweetIds)],
    ),
  );
}

/**
 * The cached newest tweet ids of each author (merged at read time), in `authors` order; undefined
 * for an author not cached (or when the cache could not answer).
 */
export async function readRecentTweets(
  deps: CacheDeps,
  authors: readonly string[],
): Promise<(string[] | undefined)[]> {
  const cached = await deps.cache.getMany(
    'get recent',
    authors.map((author) => timelineKeys.recentTweets(author)),
  );
  return authors.map((_, index) => parseIdList(cached?.[index]));
}

/** Caches authors' newest tweet ids briefly (RECENT_TTL_SECONDS), in one round trip. */
export async function fillRecentTweets(
  deps: CacheDeps,
  fills: readonly (readonly [author: string, tweetIds: readonly string[]])[],
): Promise<void> {
  if (fills.length === 0) return;
  await deps.cache.batch('fill recent', (batch) => {
    for (const [author, tweetIds] of fills) {
      batch.set(timelineKeys.recentTweets(author), JSON.stringify(tweetIds), {
        ttl: { seconds: RECENT_TTL_SECONDS },
      });
    }
  });
}

function parseIdList(raw: string | null | undefined): string[] | undefined {
  if (raw === null || raw === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (Array.isArray(value) && value.every((id) => typeof id === 'string')) return value;
  } catch {
    // a miss
  }
  return undefined;
}

/**
 * Waits until the cache is connected, for at most `timeoutMs`: the fanout, whose failures are
 * retried, should not count a cold start's connection as one.
 */
export const whenTimelinesReachable = (deps: Pick<Deps, 'cache'>, timeoutMs: number) =>
  deps.cache.whenReady(timeoutMs);
