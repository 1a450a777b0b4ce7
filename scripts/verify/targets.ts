/**
 * What the verifier runs against: the API and CDN base URLs and an identity source, either from
 * the stack's outputs (`cdk deploy --outputs-file`) or from the running local stack.
 */
import { randomBytes } from 'node:crypto';
import { CognitoIdentityProviderClient } from '@aws-sdk/client-cognito-identity-provider';
import { CognitoIdentities, LocalIdentities, type IdentitySource } from './identities';

export interface VerifyTarget {
  /** e.g. "stack Chirp" or "local stack". */
  readonly name: string;
  readonly apiUrl: string;
  /** The CDN that serves processed media, e.g. https://d111111abcdef8.cloudfront.net */
  readonly cdnUrl: string;
  readonly identities: IdentitySource;
}

/** The CfnOutputs the verifier reads (lib/chirp-stack.ts names them). */
export const STACK_OUTPUT_KEYS = {
  apiUrl: 'ApiUrl',
  cdnDomain: 'CdnDomain',
  userPoolId: 'UserPoolId',
  verifyClientId: 'VerifyClientId',
} as const;

export interface StackOutputs {
  readonly stackName: string;
  readonly apiUrl: string;
  readonly cdnUrl: string;
  readonly userPoolId: string;
  readonly verifyClientId: string;
  /** The user pool's region: a pool id is "<region>_<id>". */
  readonly region: string;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/**
 * The stack's outputs from the `--outputs-file` JSON ({"<stack>": {"<output>": "<value>"}}): the
 * named stack, or the only one that has the verifier's outputs.
 */
export function readStackOutputs(file: unknown, stackName?: string): StackOutputs {
  if (typeof file !== 'object' || file === null) {
    throw new Error('the outputs file is not a JSON object of stacks');
  }
  const stacks = Object.entries(file as Record<string, unknown>).filter(
    (entry): entry is [string, Record<string, unknown>] =>
      typeof entry[1] === 'object' && entry[1] !== null,
  );
  const candidates =
    stackName !== undefined
      ? stacks.filter(([name]) => name === stackName)
      : stacks.filter(([, outputs]) => STACK_OUTPUT_KEYS.apiUrl in outputs);
  if (candidates.length !== 1) {
    const names = stacks.map(([name]) => name).join(', ') || 'none';
    throw new Error(
      stackName !== undefined
        ? `no stack "${stackName}" in the outputs file (stacks: ${names})`
        : `the outputs file has ${candidates.length} Chirp stacks (stacks: ${names}); pick one with --stack`,
    );
  }
  const [name, outputs] = candidates[0] as [string, Record<string, unknown>];
  const read = (key: string): string => {
    const value = outputs[key];
    if (typeof value !== 'string' || value === '') {
      throw new Error(
        `stack ${name} has no output ${key}` +
          (key === STACK_OUTPUT_KEYS.verifyClientId
            ? ' (deployed before the verifier client existed: deploy again)'
            : ''),
      );
    }
    return value;
  };
  const userPoolId = read(STACK_OUTPUT_KEYS.userPoolId);
  const region = /^([a-z]{2}(?:-[a-z]+)+-\d+)_[A-Za-z0-9]+$/.exec(userPoolId)?.[1];
  if (region === undefined) throw new Error(`"${userPoolId}" is not a Cognito user pool id`);
  return {
    stackName: name,
    apiUrl: trimSlash(read(STACK_OUTPUT_KEYS.apiUrl)),
    cdnUrl: `https://${read(STACK_OUTPUT_KEYS.cdnDomain)}`,
    userPoolId,
    verifyClientId: read(STACK_OUTPUT_KEYS.verifyClientId),
    region,
  };
}

export const newRunId = (): string => randomBytes(4).toString('hex');

/** A deployment: Cognito users through the admin API, with the caller's AWS credentials. */
export function deployedTarget(
  outputs: StackOutputs,
  runId: string,
  client = new CognitoIdentityProviderClient({ region: outputs.region }),
): VerifyTarget {
  return {
    name: `stack ${outputs.stackName} (${outputs.region})`,
    apiUrl: outputs.apiUrl,
    cdnUrl: outputs.cdnUrl,
    identities: new CognitoIdentities({
      client,
      userPoolId: outputs.userPoolId,
      clientId: outputs.verifyClientId,
      runId,
    }),
  };
}

export interface LocalTargetOptions {
  /** The local web app server, which serves /config.json and /_local/token. */
  readonly appUrl: string;
  /** Overrides the API URL the app's config names. */
  readonly apiUrl?: string;
  /** Overrides the CDN URL the app's config names. */
  readonly cdnUrl?: string;
}

/**
 * The running local stack (`npm start`): its web app server says where the API and the CDN are
 * (/config.json, as it tells the browser app) and signs tokens (/_local/token).
 */
export async function localTarget(
  options: LocalTargetOptions,
  runId: string,
): Promise<VerifyTarget> {
  const appUrl = trimSlash(options.appUrl);
  let config: { apiUrl?: unknown; cdnUrl?: unknown };
  try {
    const response = await fetch(`${appUrl}/config.json`);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = (await response.json()) as typeof config;
  } catch (error) {
    throw new Error(
      `cannot read ${appUrl}/config.json (${error instanceof Error ? error.message : String(error)}): ` +
        'is `npm start` running? (--app-url names another port)',
    );
  }
  const apiUrl = options.apiUrl ?? config.apiUrl;
  const cdnUrl = options.cdnUrl ?? config.cdnUrl;
  if (typeof apiUrl !== 'string' || typeof cdnUrl !== 'string') {
    throw new Error(`${appUrl}/config.json names no apiUrl or cdnUrl`);
  }
  return {
    name: 'local stack',
    apiUrl: trimSlash(apiUrl),
    cdnUrl: trimSlash(cdnUrl),
    identities: new LocalIdentities(`${appUrl}/_local/token`, runId),
  };
}
