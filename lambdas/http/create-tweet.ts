/** POST /v1/tweets: a tweet with its media, idempotent under an Idempotency-Key. */
import { createTweet, parseCreateTweet, parseIdempotencyKey } from '../core/tweets/service';
import { functionDeps } from '../wiring';
import { headerValue, httpHandler, jsonBody } from '../platform/http';
import { jsonText } from './respond';
import { limitedCaller } from './limit';

const deps = functionDeps('CreateTweet');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const input = parseCreateTweet(jsonBody(event));
  const key = parseIdempotencyKey(headerValue(event, 'idempotency-key'));
  const result = await createTweet(deps, userId, input, key);
  return jsonText(result.status, result.tweet);
});
