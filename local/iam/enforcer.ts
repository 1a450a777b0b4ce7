/**
 * Authorizes calls to the local DynamoDB and S3 against the calling function's synthesized role
 * policy, with @cloud-copilot/iam-simulate as the policy evaluator (no policy logic of our own).
 *
 * Who calls is known from the access key id the request is signed with: every function of the
 * app model runs with credentials of its own (functionCredentials), and the emulator credentials
 * (S3RVER) stand for the operator, who may do anything, as the account's admin would on AWS.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { EVENT_FUNCTIONS, ROUTES } from '../../app/model';
import { LOCAL_ACCOUNT_ID, type FunctionPolicy } from './policies';

/** One function's local credentials. Not secret: they only tell the emulators who is calling. */
export function functionCredentials(functionId: string): {
  accessKeyId: string;
  secretAccessKey: string;
} {
  return {
    accessKeyId: `LOCALFN${functionId.toUpperCase()}`,
    secretAccessKey: `chirp-local-${functionId}-secret`,
  };
}

const FUNCTION_IDS = [...ROUTES, ...EVENT_FUNCTIONS].map((spec) => spec.id);
const BY_ACCESS_KEY = new Map(
  FUNCTION_IDS.map((id) => [functionCredentials(id).accessKeyId, id] as const),
);

/** The function whose access key this is, or undefined (operator or unknown key). */
export const functionOfAccessKey = (accessKeyId: string): string | undefined =>
  BY_ACCESS_KEY.get(accessKeyId);

/** Every function's access key pair (for the S3 emulator's signature checks). */
export const allFunctionCredentials = () => FUNCTION_IDS.map((id) => functionCredentials(id));

/** The session ARN AWS names in its AccessDenied messages for a function's calls. */
export const functionPrincipalArn = (functionId: string) =>
  `arn:aws:sts::${LOCAL_ACCOUNT_ID}:assumed-role/chirp-local-${functionId}-role/chirp-local-${functionId}`;

export interface AccessRequest {
  readonly action: string;
  readonly resource: string;
  readonly context?: Readonly<Record<string, string | string[]>>;
}

export interface Denial {
  readonly request: AccessRequest;
  /** AWS's message for an implicit deny by the identity policy. */
  readonly message: string;
}

export class IamEnforcer {
  /** Decisions are pure functions of (function, request): cached, as calls repeat a lot. */
  private readonly decisions = new Map<string, Promise<boolean>>();

  constructor(private readonly policies: ReadonlyMap<string, FunctionPolicy>) {}

  /** The first of `requests` the function may not make, or undefined if it may make them all. */
  async firstDenied(
    functionId: string,
    requests: readonly AccessRequest[],
  ): Promise<Denial | undefined> {
    for (const request of requests) {
      if (!(await this.allows(functionId, request))) {
        return {
          request,
          message:
            `User: ${functionPrincipalArn(functionId)} is not authorized to perform: ` +
            `${request.action} on resource: ${request.resource} because no identity-based policy ` +
            `allows the ${request.action} action`,
        };
      }
    }
    return undefined;
  }

  private allows(functionId: string, request: AccessRequest): Promise<boolean> {
    const key = JSON.stringify([functionId, request.action, request.resource, request.context]);
    let decision = this.decisions.get(key);
    if (decision === undefined) {
      decision = this.evaluate(functionId, request);
      if (this.decisions.size > 50_000) this.decisions.clear();
      this.decisions.set(key, decision);
    }
    return decision;
  }

  private async evaluate(functionId: string, request: AccessRequest): Promise<boolean> {
    const policy = this.policies.get(functionId);
    if (policy === undefined) return false;
    const result = await runSimulation(
      {
        identityPolicies: [
          {
            name: `${functionId}RoleDefaultPolicy`,
            policy: { Version: '2012-10-17', Statement: [...policy.statements] },
          },
        ],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: undefined,
        request: {
          action: request.action,
          principal: functionPrincipalArn(functionId),
          resource: { resource: request.resource, accountId: LOCAL_ACCOUNT_ID },
          contextVariables: { ...request.context },
        },
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(`IAM simulation failed: ${JSON.stringify(result.errors)}`);
    }
    return result.overallResult === 'Allowed';
  }
}
