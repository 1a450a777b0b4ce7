/** GET /v1/users/{handle}: a user by handle, and whether the caller follows them. */
import { getUserByHandle } from '../domain/profiles';
import { productionDeps } from '../domain/production-deps';
import { httpHandler, json, pathParam } from '../shared/http';
import { limitedCaller } from './limit';

const deps = productionDeps();

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  return json(200, await getUserByHandle(deps, userId, pathParam(event, 'handle')));
});
