/** PUT /v1/users/{user_id}/follow: idempotent; backfills the caller's timeline. */
import { followUser } from '../core/follows/service';
import { functionDeps } from '../wiring';
import { httpHandler, noContent, pathParam } from '../platform/http';
import { limitedCaller } from './limit';

const deps = functionDeps('FollowUser');

export const handler = httpHandler(async (event) => {
  const userId = await limitedCaller(event);
  await followUser(deps, userId, pathParam(event, 'user_id'));
  return noContent();
});
