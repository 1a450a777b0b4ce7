/**
 * Each function's IAM policy as `cdk synth` emits it for its execution role, with the template's
 * references resolved to the local stack's names (tables, bucket, region, account). The synth
 * runs in a child process (local/iam/synth-policies.ts) and its output is cached under
 * node_modules/.cache, keyed by the sources that shape the template, so a warm start costs
 * nothing and any change to lib/, app/ or cdk.json is picked up on the next start.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join, resolve } from 'node:path';

export type TemplateValue =
  | string
  | number
  | boolean
  | null
  | readonly TemplateValue[]
  | { readonly [key: string]: TemplateValue };

export interface SynthesizedPolicies {
  /** Per function id of the app model: its role's statements, unresolved. */
  functions: Record<
    string,
    {
      roleLogicalId: string;
      statements: TemplateValue[];
      managedPolicyArns: TemplateValue[];
    }
  >;
  /** Template resources by logical id, with the environment variable that carries their name. */
  references: Record<string, { type: string; envVar?: string }>;
}

export interface PolicyStatement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

export interface FunctionPolicy {
  readonly functionId: string;
  /** Only the statements about DynamoDB and S3, the services the local stack emulates. */
  readonly statements: readonly PolicyStatement[];
}

/** The account id the local stack uses in ARNs (as in the local Lambda context). */
export const LOCAL_ACCOUNT_ID = '000000000000';

const ROOT = resolve(__dirname, '..', '..');
const CACHE_DIR = join(ROOT, 'node_modules', '.cache', 'chirp-iam');

/** Files whose content decides the synthesized policies. */
function templateSources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts')) files.push(path);
    }
  };
  walk(join(ROOT, 'lib'));
  walk(join(ROOT, 'app'));
  walk(join(ROOT, 'bin'));
  files.push(join(ROOT, 'cdk.json'), join(ROOT, 'package-lock.json'), __filename);
  files.push(join(__dirname, 'synth-policies.ts'));
  return files;
}

/** The synthesized policies, from the cache when the template's sources have not changed. */
export async function synthesizedPolicies(): Promise<SynthesizedPolicies> {
  const hash = createHash('sha256');
  for (const file of templateSources()) hash.update(file).update(readFileSync(file));
  const cached = join(CACHE_DIR, `${hash.digest('hex').slice(0, 24)}.json`);
  if (!existsSync(cached)) {
    mkdirSync(CACHE_DIR, { recursive: true });
    const partial = `${cached}.${process.pid}.tmp`;
    // The account stays a token, as in a deploy: ARNs are resolved to the local account below.
    const { CDK_DEFAULT_ACCOUNT: _account, ...env } = process.env;
    await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'synth-policies.ts'), partial],
      { cwd: ROOT, env, maxBuffer: 16 * 1024 * 1024 },
    );
    renameSync(partial, cached);
    // Older sources' policies are never read again, nor partial files of synths that died (any
    // still being written by another start are younger than ten minutes).
    for (const name of readdirSync(CACHE_DIR)) {
      const path = join(CACHE_DIR, name);
      const abandoned = name.endsWith('.tmp') && Date.now() - statSync(path).mtimeMs > 600_000;
      if ((name.endsWith('.json') && path !== cached) || abandoned) rmSync(path, { force: true });
    }
  }
  return JSON.parse(readFileSync(cached, 'utf8')) as SynthesizedPolicies;
}

export interface LocalNames {
  readonly region: string;
  /** The handler environment: table and bucket names by variable. */
  readonly env: Readonly<Record<string, string>>;
}

/** Resolves the template's intrinsic functions to local values. */
function resolveValue(
  value: TemplateValue,
  synthesized: SynthesizedPolicies,
  names: LocalNames,
): TemplateValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value))
    return value.map((item: TemplateValue) => resolveValue(item, synthesized, names));
  const object = value as Record<string, TemplateValue>;
  const pseudo: Record<string, string> = {
    'AWS::Partition': 'aws',
    'AWS::Region': names.region,
    'AWS::AccountId': LOCAL_ACCOUNT_ID,
    'AWS::URLSuffix': 'amazonaws.com',
  };
  const nameOf = (logicalId: string): string => {
    const envVar = synthesized.references[logicalId]?.envVar;
    const name = envVar === undefined ? undefined : names.env[envVar];
    if (name === undefined) throw new Unresolved(logicalId);
    return name;
  };
  const arnOf = (logicalId: string, attribute: string): string => {
    const type = synthesized.references[logicalId]?.type;
    if (type === 'AWS::S3::Bucket' && attribute === 'Arn')
      return `arn:aws:s3:::${nameOf(logicalId)}`;
    if (type === 'AWS::DynamoDB::GlobalTable' || type === 'AWS::DynamoDB::Table') {
      const table = `arn:aws:dynamodb:${names.region}:${LOCAL_ACCOUNT_ID}:table/${nameOf(logicalId)}`;
      if (attribute === 'Arn') return table;
      if (attribute === 'StreamArn') return `${table}/stream/*`;
    }
    throw new Unresolved(`${logicalId}.${attribute}`);
  };
  if ('Ref' in object && typeof object.Ref === 'string') {
    return pseudo[object.Ref] ?? nameOf(object.Ref);
  }
  if ('Fn::GetAtt' in object) {
    const [logicalId, attribute] = object['Fn::GetAtt'] as [string, string];
    return arnOf(logicalId, attribute);
  }
  if ('Fn::Join' in object) {
    const [separator, parts] = object['Fn::Join'] as [string, TemplateValue[]];
    return parts
      .map((part) => {
        const resolved = resolveValue(part, synthesized, names);
        // An intrinsic this file does not know (Fn::Select, ...) would join as "[object Object]".
        if (resolved !== null && typeof resolved === 'object')
          throw new Unresolved(`Fn::Join part ${JSON.stringify(part)}`);
        return String(resolved);
      })
      .join(separator);
  }
  if ('Fn::Sub' in object && typeof object['Fn::Sub'] === 'string') {
    return object['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_match, name: string) => {
      if (pseudo[name] !== undefined) return pseudo[name];
      const [logicalId, attribute] = name.split('.') as [string, string | undefined];
      return attribute === undefined ? nameOf(logicalId) : arnOf(logicalId, attribute);
    });
  }
  return Object.fromEntries(
    Object.entries(object).map(([key, item]) => [key, resolveValue(item, synthesized, names)]),
  );
}

class Unresolved extends Error {
  constructor(what: string) {
    super(`cannot resolve ${what} to a local name`);
  }
}

const LOCAL_SERVICES = /^(dynamodb|s3):|^\*$/;

/**
 * The statements about DynamoDB and S3 (the services calls can reach locally), resolved. Any
 * other statement (logs, X-Ray, ElastiCache) is left out; one about DynamoDB or S3 that cannot be
 * resolved is an error, never silently dropped.
 */
export function resolvePolicies(
  synthesized: SynthesizedPolicies,
  names: LocalNames,
): Map<string, FunctionPolicy> {
  const policies = new Map<string, FunctionPolicy>();
  for (const [functionId, role] of Object.entries(synthesized.functions)) {
    const statements: PolicyStatement[] = [];
    for (const raw of role.statements) {
      const statement = raw as unknown as { Action?: string | string[]; NotAction?: unknown };
      if (statement.NotAction !== undefined)
        throw new Error(`${functionId}: NotAction unsupported`);
      const actions = [statement.Action ?? []].flat();
      if (!actions.some((action) => LOCAL_SERVICES.test(action))) continue;
      statements.push(resolveValue(raw, synthesized, names) as unknown as PolicyStatement);
    }
    policies.set(functionId, { functionId, statements });
  }
  return policies;
}
