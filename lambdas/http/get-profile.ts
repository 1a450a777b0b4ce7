/** GET /v1/profiles/{handle}: a user's profile by handle, and whether the caller follows them. */
import { getProfileByHandle } from '../core/users/service';
import { functionDeps } from '../wiring';
import { httpHandler, json, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('GetProfile');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  return json(200, await getProfileByHandle(deps, userId, pathParam(event, 'handle')));
});
