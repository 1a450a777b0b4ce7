/**
 * The model's routes must deploy: API Gateway HTTP APIs refuse two routes whose path variables
 * at one level have different names (ConflictException), and the local API refuses them too.
 */
import { ROUTES, type RouteSpec } from '../../app/model';
import { compileRoutes, matchRoute } from '../../local/api-gateway';
import { routeConflicts } from '../../local/route-conflicts';

/** The route set before the handle lookup moved to /v1/profiles/{handle} (AWS refused it). */
const withOldHandleRoute: RouteSpec[] = ROUTES.map((route) =>
  route.id === 'GetProfile' ? { ...route, path: '/v1/users/{handle}' } : route,
);

describe('route keys API Gateway accepts', () => {
  it('no two routes name a variable differently at the same level', () => {
    expect(routeConflicts(ROUTES)).toEqual([]);
  });

  it('finds the conflict AWS reported for GET /v1/users/{handle}', () => {
    expect(routeConflicts(withOldHandleRoute)).toEqual([
      expect.stringMatching(
        /^The provided route key "GET \/v1\/users\/\{handle\}" has a conflicting variable on the same hierarchical level as "GET \/v1\/users\/\{user_id\}\/tweets"$/,
      ),
    ]);
  });

  it('applies to every method and to deeper levels, not to literals or same names', () => {
    const key = (method: string, path: string) => ({ method, path });
    expect(
      routeConflicts([key('GET', '/a/{x}/b/{y}'), key('DELETE', '/a/{x}/b/{z}/c')]),
    ).toHaveLength(1);
    expect(routeConflicts([key('GET', '/a/{x}'), key('PUT', '/a/{y}')])).toHaveLength(1);
    expect(routeConflicts([key('GET', '/a/{x}'), key('POST', '/a/init')])).toEqual([]);
    expect(routeConflicts([key('GET', '/a/{x}'), key('PUT', '/a/{x}/b')])).toEqual([]);
    expect(routeConflicts([key('GET', '/a/{x}'), key('GET', '/b/{y}')])).toEqual([]);
  });

  it('the local API refuses to start with conflicting routes, as AWS refuses the deploy', () => {
    expect(() => compileRoutes(withOldHandleRoute, 'eu-west-1')).toThrow(
      /ConflictException: The provided route key "GET \/v1\/users\/\{handle\}"/,
    );
    const routes = compileRoutes(ROUTES, 'eu-west-1');
    expect(matchRoute(routes, 'GET', '/v1/profiles/alice')?.route.spec.id).toBe('GetProfile');
  });
});
