/** GET /v1/tweets/{tweet_id}: read-through cached, served as the cached JSON on a hit. */
import { getTweet, peekCachedTweet } from '../core/tweets/service';
import { functionDeps } from '../wiring';
import { httpHandler, pathParam } from '../platform/http';
import { jsonText } from './respond';
import { limitedRead } from './limit';

const deps = functionDeps('GetTweet');

export const handler = httpHandler(async (event) => {
  // The cache GET goes out with the limiter; a miss is filled only once the caller is allowed.
  const tweetId = () => pathParam(event, 'tweet_id');
  const { first } = await limitedRead(event, () => peekCachedTweet(deps, tweetId()));
  return jsonText(200, await getTweet(deps, tweetId(), first));
});
