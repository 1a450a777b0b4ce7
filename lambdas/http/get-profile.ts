/** GET /v1/profiles/{handle}: a user's profile by handle, and whether the caller follows them. */
import { getProfileByHandle } from '../core/users/service';
import { productionDeps } from '../wiring';
import { httpHandler, json, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = productionDeps();

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  return json(200, await getProfileByHandle(deps, userId, pathParam(event, 'handle')));
});
