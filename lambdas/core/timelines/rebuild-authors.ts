/**
 * Bounds the work of reading a home timeline from DynamoDB, whatever the followee count: only the
 * authors who can contribute are queried.
 *
 * Each profile carries `last_tweet_id`, the id of the author's newest tweet (set in the
 * transaction that creates it). The newest `depth` tweets of a timeline come from at most `depth`
 * authors, and those are among the `depth` authors with the newest last tweets: an author ranked
 * below that has `depth` others each with a newer tweet than any of theirs. So a rebuild
 * (depth = timeline depth, 800) queries at most 800 authors, and none who never tweeted, however
 * many the user follows. A deleted newest tweet leaves `last_tweet_id` too new, which can only
 * rank that author too high.
 */
export function authorsToRead(
  authors: readonly string[],
  lastTweetIds: ReadonlyMap<string, string>,
  depth: number,
): string[] {
  const ranked = authors.flatMap((author) => {
    const last = lastTweetIds.get(author);
    return last === undefined ? [] : [{ author, last }];
  });
  // Tweet ids sort by creation time (a ULID first).
  ranked.sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : 0));
  return ranked.slice(0, Math.max(0, depth)).map((entry) => entry.author);
}
