/** GET /v1/timeline?limit=&cursor=: the caller's home timeline. */
import { peekHomeTimeline, readHomeTimeline } from '../core/timelines/service';
import { pageJson } from '../core/tweets/service';
import { pageLimit } from '../core/validation';
import { functionDeps } from '../wiring';
import { httpHandler, queryParam } from '../platform/http';
import { jsonText } from './respond';
import { limitedRead } from './limit';

const deps = functionDeps('GetTimeline');

export const handler = httpHandler(async (event) => {
  const cursor = queryParam(event, 'cursor');
  const options = () => ({
    limit: pageLimit(queryParam(event, 'limit')),
    ...(cursor !== undefined ? { cursor } : {}),
  });
  // The page script goes out with the limiter; rebuilds and fills run only once it allowed.
  const { userId, first } = await limitedRead(event, (caller) =>
    peekHomeTimeline(deps, caller, options()),
  );
  return jsonText(200, pageJson(await readHomeTimeline(deps, userId, options(), first)));
});
