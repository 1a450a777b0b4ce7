/** PUT /v1/me/profile: handle, display name, bio, avatar; only the caller's own profile. */
import { parseProfileUpdate, updateProfile } from '../core/users/service';
import { functionDeps } from '../wiring';
import { httpHandler, json, jsonBody } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('UpdateProfile');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  const update = parseProfileUpdate(jsonBody(event));
  return json(200, await updateProfile(deps, userId, update));
});
