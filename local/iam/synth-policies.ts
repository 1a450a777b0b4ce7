/**
 * Child-process entry: synthesizes the CDK app exactly as `cdk synth` does (cdk.json's context,
 * cdk-nag included, bundling skipped) and writes, for each function of the app model, the IAM
 * statements the template gives its execution role, still with their CloudFormation references.
 * Run in its own process so the stack's process never loads aws-cdk-lib (~4 s, ~200 MB).
 *
 *   tsx local/iam/synth-policies.ts OUT_FILE
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { EVENT_FUNCTIONS, ROUTES } from '../../app/model';
import { buildChirpApp } from '../../lib/chirp-app';
import type { SynthesizedPolicies, TemplateValue } from './policies';

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, TemplateValue> & {
    readonly Environment?: { readonly Variables?: Record<string, TemplateValue> };
    readonly Role?: { readonly 'Fn::GetAtt'?: [string, string] };
    readonly Roles?: readonly { readonly Ref?: string }[];
    readonly PolicyDocument?: { readonly Statement: readonly TemplateValue[] };
    readonly Policies?: readonly { readonly PolicyDocument: { Statement: TemplateValue[] } }[];
    readonly ManagedPolicyArns?: readonly TemplateValue[];
  };
}

const ROOT = resolve(__dirname, '..', '..');

function synthesize(): Record<string, CfnResource> {
  const cdkJson = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  const outdir = mkdtempSync(join(tmpdir(), 'chirp-iam-synth-'));
  try {
    const app = new App({
      outdir,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });
    const stack = buildChirpApp(app);
    const template = app.synth().getStackByName(stack.stackName).template as {
      Resources: Record<string, CfnResource>;
    };
    return template.Resources;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function extractPolicies(resources: Record<string, CfnResource>): SynthesizedPolicies {
  const ids = new Set([...ROUTES, ...EVENT_FUNCTIONS].map((spec) => spec.id));
  const result: SynthesizedPolicies = { functions: {}, references: {} };
  for (const [logicalId, resource] of Object.entries(resources)) {
    result.references[logicalId] = { type: resource.Type };
  }
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const variables = resource.Properties?.Environment?.Variables ?? {};
    const id = variables.POWERTOOLS_SERVICE_NAME;
    if (typeof id !== 'string' || !ids.has(id)) continue;
    // Which template resource each environment variable names (tables, bucket): the local
    // runtime sets the same variables, so a reference resolves to the local name.
    for (const [name, value] of Object.entries(variables)) {
      const ref = (value as { Ref?: unknown } | null)?.Ref;
      if (typeof ref === 'string' && result.references[ref] !== undefined) {
        result.references[ref] = { ...result.references[ref], envVar: name };
      }
    }
    const roleId = resource.Properties?.Role?.['Fn::GetAtt']?.[0];
    const role = roleId === undefined ? undefined : resources[roleId];
    if (roleId === undefined || role === undefined) throw new Error(`${id} has no role`);
    const statements: TemplateValue[] = [];
    for (const inline of role.Properties?.Policies ?? []) {
      statements.push(...inline.PolicyDocument.Statement);
    }
    for (const policy of Object.values(resources)) {
      if (policy.Type !== 'AWS::IAM::Policy') continue;
      if (!(policy.Properties?.Roles ?? []).some((r) => r.Ref === roleId)) continue;
      statements.push(...(policy.Properties?.PolicyDocument?.Statement ?? []));
    }
    result.functions[id] = {
      roleLogicalId: roleId,
      statements,
      managedPolicyArns: [...(role.Properties?.ManagedPolicyArns ?? [])],
    };
  }
  const missing = [...ids].filter((id) => result.functions[id] === undefined);
  if (missing.length > 0) throw new Error(`no synthesized role for ${missing.join(', ')}`);
  return result;
}

if (require.main === module) {
  const out = process.argv[2];
  if (out === undefined) throw new Error('usage: synth-policies.ts OUT_FILE');
  writeFileSync(out, JSON.stringify(extractPolicies(synthesize())));
}
