// Own code: API Gateway's route-tree rule has no library; a dozen lines over the model's paths.
/**
 * Route keys an HTTP API (ApiGatewayV2) refuses: two routes with differently named path variables
 * at the same hierarchical level, e.g. `GET /v1/users/{handle}` beside
 * `PUT /v1/users/{user_id}/follow`. AWS fails the deploy with a ConflictException ("... has a
 * conflicting variable on the same hierarchical level as ..."), whatever the methods, so the
 * local API refuses to start with such routes and a test holds the model to it.
 */

export interface RouteKeyed {
  readonly method: string;
  readonly path: string;
}

const variableName = (segment: string) => /^\{(.+?)\+?\}$/.exec(segment)?.[1];

/** AWS's messages for every route whose variable conflicts with an earlier route's. */
export function routeConflicts(routes: readonly RouteKeyed[]): string[] {
  // The parent path of each variable level (variables written `{}`: one level holds one name).
  const firstAtLevel = new Map<string, { name: string; routeKey: string }>();
  const conflicts: string[] = [];
  for (const route of routes) {
    const routeKey = `${route.method} ${route.path}`;
    const segments = route.path.split('/').slice(1);
    for (let i = 0; i < segments.length; i++) {
      const name = variableName(segments[i]!);
      if (name === undefined) continue;
      const parent = segments
        .slice(0, i)
        .map((s) => (variableName(s) === undefined ? s : '{}'))
        .join('/');
      const first = firstAtLevel.get(parent);
      if (first === undefined) {
        firstAtLevel.set(parent, { name, routeKey });
      } else if (first.name !== name) {
        conflicts.push(
          `The provided route key "${routeKey}" has a conflicting variable on the same ` +
            `hierarchical level as "${first.routeKey}"`,
        );
      }
    }
  }
  return conflicts;
}

/** Throws what API Gateway answers a conflicting route set with. */
export function assertNoRouteConflicts(routes: readonly RouteKeyed[]): void {
  const conflicts = routeConflicts(routes);
  if (conflicts.length > 0) {
    throw new Error(`ConflictException: ${conflicts.join('; ')}`);
  }
}
