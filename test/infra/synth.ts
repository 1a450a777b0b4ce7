/** Synthesizes the Chirp app the way bin/chirp.ts does, with cdk.json's feature flags. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { buildChirpApp } from '../../lib/chirp-app';
import type { ChirpStack } from '../../lib/chirp-stack';

const cdkJson = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
) as { context: Record<string, unknown> };

/** cdk.json's context (feature flags), as `cdk synth` passes it to the app. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = cdkJson.context;

export interface Synthesized {
  readonly app: App;
  readonly stack: ChirpStack;
  readonly template: Template;
  /** The cloud assembly directory (a fresh temporary folder). */
  readonly outdir: string;
}

export interface SynthOptions {
  /** Extra context, as `-c key=value` would give. */
  readonly context?: Record<string, unknown>;
  /** Bundle the functions for real (slow). @default false */
  readonly bundle?: boolean;
}

export function synthChirp(options: SynthOptions = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-cdk-'));
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      // Lets tests map each function to its staged asset folder.
      'aws:cdk:enable-asset-metadata': true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  try {
    const stack = buildChirpApp(app);
    // Runs the cdk-nag plugin too: synth throws on any unacknowledged finding.
    app.synth();
    return { app, stack, template: Template.fromStack(stack), outdir };
  } catch (error) {
    fs.rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}

/** A resource of the template as CloudFormation JSON; a test narrows what it reads of it. */
export interface TemplateResource {
  readonly Properties: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** Logical ids and properties of every resource of `type` in the template. */
export function resourcesOfType(
  template: Template,
  type: string,
): Array<[string, TemplateResource]> {
  return Object.entries(template.findResources(type)) as Array<[string, TemplateResource]>;
}

/** The template's resource with this logical id. */
export function resourceOf(template: Template, logicalId: string): TemplateResource {
  const { Resources } = template.toJSON() as {
    Resources: Record<string, TemplateResource | undefined>;
  };
  const resource = Resources[logicalId];
  if (resource === undefined) throw new Error(`the template has no resource ${logicalId}`);
  return resource;
}

/** The template's logical id of a construct's CloudFormation resource (or of an L1 itself). */
export function logicalId(stack: ChirpStack, construct: IConstruct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no L1`);
  return stack.getLogicalId(element);
}
