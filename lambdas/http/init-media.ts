/** POST /v1/media/init: a media record and a presigned PUT for its upload. */
import { initMedia, parseInitMedia } from '../core/media/upload';
import { uploadDeps } from '../wiring-s3';
import { httpHandler, json, jsonBody } from '../platform/http';
import { limitedCaller } from './limit';

const deps = uploadDeps('InitMedia');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const input = parseInitMedia(jsonBody(event));
  return json(201, await initMedia(deps, userId, input));
});
