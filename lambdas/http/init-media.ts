/** POST /v1/media/init: a media record and a presigned PUT for its upload. */
import { initMedia, parseInitMedia } from '../domain/media-upload';
import { productionUploadDeps } from '../domain/production-upload-deps';
import { callerId, httpHandler, json, jsonBody } from '../shared/http';

const deps = productionUploadDeps();

export const handler = httpHandler(async (event) => {
  const userId = callerId(event);
  const input = parseInitMedia(jsonBody(event));
  return json(201, await initMedia(deps, userId, input));
});
