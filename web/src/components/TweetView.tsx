import type { Tweet } from '../../../client';
import type { ChirpClient } from '../api';
import { MediaView } from './MediaView';

export interface TweetViewProps {
  readonly tweet: Tweet;
  readonly api: ChirpClient;
  readonly me: string;
  readonly onDelete: (tweet: Tweet) => void;
}

const time = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function TweetView({ tweet, api, me, onDelete }: TweetViewProps) {
  return (
    <article class="tweet" data-tweet-id={tweet.tweet_id} aria-label={`Tweet by ${tweet.user_id}`}>
      <header>
        <a href={`#/u/${encodeURIComponent(tweet.user_id)}`} class="author">
          @{tweet.user_id}
        </a>{' '}
        <time dateTime={tweet.created_at}>{time.format(new Date(tweet.created_at))}</time>
        {tweet.user_id === me && (
          <button type="button" class="link delete" onClick={() => onDelete(tweet)}>
            Delete
          </button>
        )}
      </header>
      {tweet.text && <p class="text">{tweet.text}</p>}
      {tweet.media.length > 0 && (
        <div class={`media-grid count-${tweet.media.length}`}>
          {tweet.media.map((media) => (
            <MediaView key={media.media_id} initial={media} api={api} />
          ))}
        </div>
      )}
    </article>
  );
}
