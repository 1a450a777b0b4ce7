/** GET /v1/users/{user_id}/tweets?limit=&cursor=: a user's complete history, newest first. */
import { listUserTweets, pageJson } from '../core/tweets/service';
import { pageLimit, userIdParam } from '../core/validation';
import { functionDeps } from '../wiring';
import { httpHandler, pathParam, queryParam } from '../platform/http';
import { jsonText } from './respond';
import { limitedCaller } from './limit';

const deps = functionDeps('ListUserTweets');

export const handler = httpHandler(async (event) => {
  await limitedCaller(event);
  const userId = userIdParam(pathParam(event, 'user_id'));
  const limit = pageLimit(queryParam(event, 'limit'));
  const cursor = queryParam(event, 'cursor');
  const page = await listUserTweets(deps, userId, {
    limit,
    ...(cursor !== undefined ? { cursor } : {}),
  });
  return jsonText(200, pageJson(page));
});
