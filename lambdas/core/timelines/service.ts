/**
 * GET /v1/timeline: the caller's home timeline, newest first, up to deps.timelineMaxEntries deep.
 *
 * The common path is two Redis round trips: one script call (timeline page, built marker, expiry
 * refresh, cached follow graph) and one pipeline of GETs of the tweets; misses cost one BatchGet of tweets
 * and one of media. A missing timeline is rebuilt from DynamoDB; with Redis down, pages are
 * served straight from DynamoDB. Celebrity followees' tweets are merged in here.
 */
import { LIMITS, METRICS } from '../../../app/model';
import { countMetric } from '../../platform/metrics';
import { invalidRequest } from '../errors';
import type { Deps } from '../ports';
import { clearTimelineStale, loadFollowGraph, type FollowGraph } from '../follows/store';
import type { CachedFollowGraph } from '../follows/store-cache';
import { parseTweetId, tweetAuthorOf } from '../ids';
import { authorsToRead } from './rebuild-authors';
import { mergeNewest, mergeNewestFirst, newestTweetIds } from '../tweets/store-sources';
import {
  fillRecentTweets,
  finishBuild,
  readRecentTweets,
  readStoredPage,
  startBuild,
} from './store';
import { hydrateTweets, type TweetPage } from '../tweets/store';
import { decodeCursor, encodeCursor } from '../validation';

const HOME_CURSOR_VERSION = 'h1';
/** Newest ids cached per celebrity; enough for any first page (limit + 1). */
const RECENT_MAX = LIMITS.pageMaxLimit + 1;

interface HomeCursor {
  /** Entries already served; the timeline ends at deps.timelineMaxEntries. */
  readonly served: number;
  /** The last tweet id served: the next page starts below it. */
  readonly before: string;
}

export interface HomePageOptions {
  readonly limit: number;
  readonly cursor?: string;
}

/** Where a page starts and how many entries it wants; a bad cursor is a 400. */
function homePageRequest(deps: Deps, options: HomePageOptions) {
  const MAX = deps.timelineMaxEntries;
  const cursor = parseHomeCursor(options.cursor, MAX);
  const served = cursor?.served ?? 0;
  return { served, want: Math.min(options.limit, MAX - served), before: cursor?.before };
}

/** The page script's answer, read ahead by GET /v1/timeline (see peekHomeTimeline). */
export interface PeekedHomePage {
  readonly stored: Awaited<ReturnType<typeof readStoredPage>>;
}

/**
 * The stored page alone, as readHomeTimeline's first read: sent with the rate limiter in one
 * tick, then handed to readHomeTimeline. It writes no data (the script refreshes the timeline's
 * expiry, nothing else), so a limited caller's read ahead changes nothing they could see.
 */
export async function peekHomeTimeline(
  deps: Deps,
  userId: string,
  options: HomePageOptions,
): Promise<PeekedHomePage> {
  const { want, before } = homePageRequest(deps, options);
  return { stored: want <= 0 ? undefined : await readStoredPage(deps, userId, before, want + 1) };
}

/**
 * A home cursor positions a read inside the caller's own timeline only; a forged one can skip
 * around in it, never reach anyone else's data.
 */
function parseHomeCursor(raw: string | undefined, max: number): HomeCursor | undefined {
  if (raw === undefined) return undefined;
  const [version, served, before] = decodeCursor(raw, 3);
  if (
    version !== HOME_CURSOR_VERSION ||
    served === undefined ||
    !/^[0-9]{1,3}$/.test(served) ||
    Number(served) > max ||
    before === undefined ||
    parseTweetId(before) === undefined
  ) {
    throw invalidRequest('cursor is not valid');
  }
  return { served: Number(served), before };
}

export async function readHomeTimeline(
  deps: Deps,
  userId: string,
  options: HomePageOptions,
  peeked?: PeekedHomePage,
): Promise<TweetPage> {
  const MAX = deps.timelineMaxEntries;
  const { served, want, before } = homePageRequest(deps, options);
  if (want <= 0) return { tweets: [], next_cursor: null };

  const stored =
    peeked !== undefined ? peeked.stored : await readStoredPage(deps, userId, before, want + 1);
  let graph: CachedFollowGraph | undefined = stored?.followGraph;
  let stale = false;
  if (stored?.built === true && graph === undefined) {
    const loaded = await loadFollowGraph(deps, userId);
    graph = loaded;
    // A follow or unfollow whose Redis work failed left this timeline stale: rebuild it now.
    stale = loaded.timelineStaleAt !== undefined;
  }
  let candidates: string[];
  if (stored?.built === true && !stale) {
    candidates = stored.tweetIds;
    if (stored.floored && candidates.length <= want && served + candidates.length < MAX) {
      // Cut at its depth, and short of entries here (unfollows and deletes removed some): the
      // entries older than its last one come from DynamoDB.
      const sources =
        graph?.followees != null
          ? { followees: graph.followees, celebrities: graph.celebrities }
          : await loadFollowGraph(deps, userId);
      const older = await mergeNewest(
        deps,
        fannedOutAuthors(userId, sources),
        want + 1 - candidates.length,
        candidates[candidates.length - 1] ?? before,
      );
      candidates = [...candidates, ...older];
    }
  } else {
    // Missing, half-built or stale (or Redis down): read the source of truth.
    const marker = stored === undefined ? undefined : await startBuild(deps, userId, stale);
    // Read after the marker is set: a follow committed before it is in this graph, and fanout
    // after it lands in the key.
    const loaded = await loadFollowGraph(deps, userId);
    graph = loaded;
    // Only authors who can have a tweet among the timeline's newest MAX: at most MAX queries.
    const authors = authorsToRead(fannedOutAuthors(userId, loaded), loaded.lastTweetIds, MAX);
    if (marker !== undefined) {
      const rebuilt = await mergeNewest(deps, authors, MAX);
      await finishBuild(deps, userId, marker, rebuilt, MAX);
      candidates = rebuilt.filter((id) => before === undefined || id < before).slice(0, want + 1);
      // Any failure marked before that graph read is covered by this rebuild (if finishing it
      // failed, the timeline is not built, so the next read rebuilds it anyway).
      if (loaded.timelineStaleAt !== undefined) {
        await clearTimelineStale(deps, userId, loaded.timelineStaleAt);
      }
    } else {
      candidates = await mergeNewest(deps, authors, want + 1, before);
    }
  }
  graph ??= await loadFollowGraph(deps, userId);
  if (graph.celebrities.length > 0) {
    countMetric(METRICS.names.celebrityMerges);
    const merged = await celebrityTweetIds(deps, graph.celebrities, want + 1, before);
    candidates = mergeNewestFirst([candidates, merged], want + 1);
  }

  const page = candidates.slice(0, want);
  const shown = authorFilter(userId, graph);
  const hydrated = await hydrateTweets(deps, page.filter(shown));
  // Skipped: tweets deleted a moment ago (the fanout's REMOVE follows) and, rarely, a tweet a
  // fanout already under way wrote just after the caller unfollowed its author. Only what is
  // shown counts towards the depth, so skipped entries never push shown ones past it.
  const tweets = page.flatMap((id) => (shown(id) ? (hydrated.get(id) ?? []) : []));
  const last = page[page.length - 1];
  const servedNow = served + tweets.length;
  const more = candidates.length > want && servedNow < MAX && last !== undefined;
  return {
    tweets,
    next_cursor: more ? encodeCursor([HOME_CURSOR_VERSION, servedNow, last]) : null,
  };
}

/** Which entries a user may see: their own and their followees' (unless too many to list). */
function authorFilter(userId: string, graph: CachedFollowGraph): (tweetId: string) => boolean {
  if (graph.followees === null) return () => true;
  const allowed = new Set([userId, ...graph.followees]);
  return (tweetId) => allowed.has(tweetAuthorOf(tweetId));
}

/** Authors whose tweets the fanout writes into this user's timeline: self and non-celebrities. */
function fannedOutAuthors(
  userId: string,
  graph: Pick<FollowGraph, 'followees' | 'celebrities'>,
): string[] {
  const merged = new Set(graph.celebrities);
  return [userId, ...graph.followees.filter((id) => !merged.has(id))];
}

/**
 * The newest `count` tweet ids (older than `before`) of authors merged at read time. Each author's
 * newest ids are cached briefly in Redis; deeper pages, or an author whose cached ids do not reach
 * far enough back, are read from DynamoDB.
 */
async function celebrityTweetIds(
  deps: Deps,
  authors: readonly string[],
  count: number,
  before: string | undefined,
): Promise<string[]> {
  const cached = await readRecentTweets(deps, authors);
  const lists: string[][] = [];
  const uncovered: string[] = [];
  const fills: [string, string[]][] = [];
  await Promise.all(
    authors.map(async (author, index) => {
      let recent = cached[index];
      if (recent === undefined) {
        recent = await newestTweetIds(deps, author, RECENT_MAX);
        fills.push([author, recent]);
      }
      const below = before === undefined ? recent : recent.filter((id) => id < before);
      // Complete when the cache holds the author's whole history or enough ids below `before`.
      if (recent.length < RECENT_MAX || below.length >= count) lists.push(below);
      else uncovered.push(author);
    }),
  );
  await fillRecentTweets(deps, fills);
  if (uncovered.length > 0) lists.push(await mergeNewest(deps, uncovered, count, before));
  return mergeNewestFirst(lists, count);
}
