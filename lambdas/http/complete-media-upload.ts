/** POST /v1/media/{media_id}/complete: assembles the parts of an upload in parts. */
import { completeMediaUpload, parseCompleteUpload } from '../domain/media-multipart';
import { productionUploadDeps } from '../domain/production-upload-deps';
import { cdnBaseUrl } from '../shared/clients';
import { httpHandler, json, jsonBody, pathParam } from '../shared/http';
import { limitedCaller } from './limit';

const deps = {
  ...productionUploadDeps(),
  get cdnBaseUrl() {
    return cdnBaseUrl();
  },
};

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const parts = parseCompleteUpload(jsonBody(event));
  return json(200, await completeMediaUpload(deps, userId, pathParam(event, 'media_id'), parts));
});
