/** GET /v1/users/{user_id}/tweets?limit=&cursor=: a user's complete history, newest first. */
import { listUserTweets, pageJson } from '../domain/tweets';
import { pageLimit, userIdParam } from '../domain/validation';
import { productionDeps } from '../domain/production-deps';
import { httpHandler, pathParam, queryParam } from '../shared/http';
import { jsonText } from './respond';
import { limitedCaller } from './limit';

const deps = productionDeps();

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
