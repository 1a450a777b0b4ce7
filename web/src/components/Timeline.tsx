/**
 * A page-by-page list of tweets: loads more on `next_cursor` when the end scrolls into view (or
 * from the "Load more" button, for keyboards), and refreshes from the top on "New tweets".
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { Page, Tweet } from '../../../client';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import { TweetView } from './TweetView';

export type PageLoader = (cursor: string | undefined) => Promise<Page>;

export interface TimelineProps {
  readonly api: ChirpClient;
  readonly me: string;
  readonly load: PageLoader;
  /** Tweets to show first, newest first (the ones just posted here). */
  readonly prepend?: readonly Tweet[];
  readonly label: string;
}

export function Timeline({ api, me, load, prepend = [], label }: TimelineProps) {
  const [tweets, setTweets] = useState<Tweet[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string>();
  const end = useRef<HTMLDivElement>(null);

  const fetchPage = useCallback(
    async (from: string | undefined, replace: boolean) => {
      setLoading(true);
      setError(undefined);
      try {
        const page = await load(from);
        setTweets((old) => {
          const merged = replace ? page.tweets : [...old, ...page.tweets];
          const seen = new Set<string>();
          return merged.filter((t) => !seen.has(t.tweet_id) && seen.add(t.tweet_id));
        });
        setCursor(page.next_cursor);
      } catch (caught) {
        setError(errorMessage(caught));
      } finally {
        setLoading(false);
      }
    },
    [load],
  );

  useEffect(() => {
    void fetchPage(undefined, true);
  }, [fetchPage]);

  useEffect(() => {
    const target = end.current;
    if (target === null || cursor === null || cursor === undefined || loading) return;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void fetchPage(cursor, false);
    });
    observer.observe(target);
    return () => observer.disconnect();
  }, [cursor, loading, fetchPage]);

  const remove = async (tweet: Tweet) => {
    if (!confirm('Delete this tweet?')) return;
    try {
      await api
        .DELETE('/v1/tweets/{tweet_id}', { params: { path: { tweet_id: tweet.tweet_id } } })
        .then((result) => result.error !== undefined && unwrap(result));
      setTweets((old) => old.filter((t) => t.tweet_id !== tweet.tweet_id));
      setDeleted((old) => new Set(old).add(tweet.tweet_id));
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };
  const [deleted, setDeleted] = useState<ReadonlySet<string>>(new Set());

  const shown = [
    ...prepend.filter(
      (t) => !deleted.has(t.tweet_id) && !tweets.some((o) => o.tweet_id === t.tweet_id),
    ),
    ...tweets,
  ];
  return (
    <section class="timeline" aria-label={label} aria-busy={loading}>
      <button type="button" class="refresh" onClick={() => void fetchPage(undefined, true)}>
        New tweets
      </button>
      {error !== undefined && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {shown.map((tweet) => (
        <TweetView
          key={tweet.tweet_id}
          tweet={tweet}
          api={api}
          me={me}
          onDelete={(deleted) => void remove(deleted)}
        />
      ))}
      {shown.length === 0 && !loading && error === undefined && <p class="empty">No tweets yet.</p>}
      <div ref={end} class="end">
        {cursor ? (
          <button type="button" disabled={loading} onClick={() => void fetchPage(cursor, false)}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        ) : loading ? (
          <p>Loading…</p>
        ) : null}
      </div>
    </section>
  );
}
