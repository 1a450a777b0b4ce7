/** GET /v1/me: the caller's profile; their first call creates it with a generated handle. */
import { getMe } from '../core/users/service';
import { functionDeps } from '../wiring';
import { httpHandler, json } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('GetMe');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  return json(200, await getMe(deps, userId));
});
