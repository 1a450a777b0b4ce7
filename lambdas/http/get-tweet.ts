/** GET /v1/tweets/{tweet_id}: read-through cached, served as the cached JSON on a hit. */
import { getTweet } from '../domain/tweets';
import { productionDeps } from '../domain/production-deps';
import { callerId, httpHandler, pathParam } from '../shared/http';
import { jsonText } from './respond';

const deps = productionDeps();

export const handler = httpHandler(async (event) => {
  callerId(event);
  return jsonText(200, await getTweet(deps, pathParam(event, 'tweet_id')));
});
