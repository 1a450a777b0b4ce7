/** DELETE /v1/tweets/{tweet_id}: the caller's own tweet only. */
import { deleteTweet } from '../core/tweets/service';
import { functionDeps } from '../wiring';
import { httpHandler, noContent, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('DeleteTweet');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  await deleteTweet(deps, userId, pathParam(event, 'tweet_id'));
  return noContent();
});
