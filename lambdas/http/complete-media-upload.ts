/** POST /v1/media/{media_id}/complete: assembles the parts of an upload in parts. */
import { completeMediaUpload, parseCompleteUpload } from '../core/media/multipart';
import { cdnBase } from '../wiring';
import { uploadDeps } from '../wiring-s3';
import { httpHandler, json, jsonBody, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = {
  ...uploadDeps('CompleteMediaUpload'),
  get cdnBaseUrl() {
    return cdnBase();
  },
};

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const parts = parseCompleteUpload(jsonBody(event));
  return json(200, await completeMediaUpload(deps, userId, pathParam(event, 'media_id'), parts));
});
