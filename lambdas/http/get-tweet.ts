/** GET /v1/tweets/{tweet_id}: read-through cached, served as the cached JSON on a hit. */
import { getTweet } from '../core/tweets/service';
import { functionDeps } from '../wiring';
import { httpHandler, pathParam } from '../platform/http';
import { jsonText } from './respond';
import { limitedCaller } from './limit';

const deps = functionDeps('GetTweet');

export const handler = httpHandler(async (event) => {
  await limitedCaller(event);
  return jsonText(200, await getTweet(deps, pathParam(event, 'tweet_id')));
});
