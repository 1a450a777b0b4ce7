/** GET /v1/timeline?limit=&cursor=: the caller's home timeline. */
import { readHomeTimeline } from '../core/timelines/service';
import { pageJson } from '../core/tweets/service';
import { pageLimit } from '../core/validation';
import { functionDeps } from '../wiring';
import { httpHandler, queryParam } from '../platform/http';
import { jsonText } from './respond';
import { limitedCaller } from './limit';

const deps = functionDeps('GetTimeline');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const limit = pageLimit(queryParam(event, 'limit'));
  const cursor = queryParam(event, 'cursor');
  const page = await readHomeTimeline(deps, userId, {
    limit,
    ...(cursor !== undefined ? { cursor } : {}),
  });
  return jsonText(200, pageJson(page));
});
