/** DELETE /v1/users/{user_id}/follow: idempotent; the followee leaves the caller's timeline. */
import { unfollowUser } from '../core/follows/service';
import { functionDeps } from '../wiring';
import { httpHandler, noContent, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('UnfollowUser');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  await unfollowUser(deps, userId, pathParam(event, 'user_id'));
  return noContent();
});
