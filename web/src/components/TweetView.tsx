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

/** The author: their profile by handle once they have one, else their user id's page. */
function Author({ tweet }: { tweet: Tweet }) {
  const { author } = tweet;
  if (author === undefined) {
    return (
      <a href={`#/u/${encodeURIComponent(tweet.user_id)}`} class="author">
        @{tweet.user_id}
      </a>
    );
  }
  return (
    <a href={`#/@${encodeURIComponent(author.handle)}`} class="author">
      {author.avatar_url !== null ? (
        <img class="avatar-small" src={author.avatar_url} width={24} height={24} alt="" />
      ) : null}
      {author.display_name && <span class="display-name">{author.display_name}</span>} @
      {author.handle}
    </a>
  );
}

export function TweetView({ tweet, api, me, onDelete }: TweetViewProps) {
  const by = tweet.author !== undefined ? `@${tweet.author.handle}` : tweet.user_id;
  return (
    <article class="tweet" data-tweet-id={tweet.tweet_id} aria-label={`Tweet by ${by}`}>
      <header>
        <Author tweet={tweet} />{' '}
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
