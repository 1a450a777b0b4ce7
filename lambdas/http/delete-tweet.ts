/** DELETE /v1/tweets/{tweet_id}: the caller's own tweet only. */
import { deleteTweet } from '../domain/tweets';
import { productionDeps } from '../domain/production-deps';
import { callerId, httpHandler, noContent, pathParam } from '../shared/http';

const deps = productionDeps();

export const handler = httpHandler(async (event) => {
  const userId = callerId(event);
  await deleteTweet(deps, userId, pathParam(event, 'tweet_id'));
  return noContent();
});
