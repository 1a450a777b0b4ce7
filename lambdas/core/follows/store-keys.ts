/**
 * The follow edge's key, for the one read another aggregate makes of it in its own BatchGet (a
 * profile and whether the caller follows that user, core/users). No imports of other aggregates,
 * so the users store can use it without a cycle.
 */
import { METADATA_KEYS } from '../../../app/model';

/** The `FOLLOWS#{followee}` edge under the follower. */
export const followEdgeKey = (follower: string, followee: string) =>
  METADATA_KEYS.follows(follower, followee);
