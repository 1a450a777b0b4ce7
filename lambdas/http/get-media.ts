/** GET /v1/media/{media_id}: the media object, for its owner or once attached. */
import { getMedia } from '../core/media/service';
import { functionDeps } from '../wiring';
import { httpHandler, json, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('GetMedia');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  return json(200, await getMedia(deps, userId, pathParam(event, 'media_id')));
});
