import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../app/model';
import { ChirpStack } from './chirp-stack';
import {
  checkReplicaChange,
  DEPLOY_SETTINGS_FILE,
  readDeploySettings,
  settingsKey,
  SYNTHESIZED_SETTINGS_FILE,
} from './deploy-settings';

/** Context keys the app reads (`-c key=value`). */
export const CONTEXT = {
  region: 'region',
  replicaRegions: 'replicaRegions',
  corsOrigins: 'corsOrigins',
  stackName: 'stackName',
  /** The recorded deploy settings (lib/deploy-settings.ts). @default deploy-settings.json */
  deploySettingsFile: 'deploySettingsFile',
  /** Transcoder memory in MB (default: the model's, 3008, deployable on new accounts). */
  transcoderMemoryMb: 'transcoderMemoryMb',
  /** Transcoder reserved concurrency; 0 reserves none (default: the model's). */
  transcoderReservedConcurrency: 'transcoderReservedConcurrency',
  alarmEmail: 'alarmEmail',
  /** Lambda X-Ray mode: passThrough (default) or active (docs/operations.md, "Tracing"). */
  lambdaTracing: 'lambdaTracing',
  rateLimits: 'rateLimits',
  maxFollowees: 'maxFollowees',
  pendingUploadsMax: 'pendingUploadsMax',
  uploadBytesPerDay: 'uploadBytesPerDay',
} as const;

/** Context keys that set a per-user limit, and the variable each becomes. */
const LIMIT_CONTEXT = {
  [CONTEXT.rateLimits]: ENV.rateLimits,
  [CONTEXT.maxFollowees]: ENV.maxFollowees,
  [CONTEXT.pendingUploadsMax]: ENV.pendingUploadsMax,
  [CONTEXT.uploadBytesPerDay]: ENV.uploadBytesPerDay,
} as const;

export const DEFAULT_REGION = 'us-east-1';
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** Adds the Chirp stack to `app` from its context, and runs the cdk-nag AwsSolutions pack. */
export function buildChirpApp(app: App): ChirpStack {
  const region = stringContext(app, CONTEXT.region) ?? DEFAULT_REGION;
  const stackName = stringContext(app, CONTEXT.stackName) ?? 'Chirp';
  const key = settingsKey(stackName, region);
  const settingsFile =
    stringContext(app, CONTEXT.deploySettingsFile) ??
    join(resolve(__dirname, '..'), DEPLOY_SETTINGS_FILE);
  const recorded = readDeploySettings(settingsFile, key);
  // Without -c replicaRegions, the regions recorded by the last deploy: never "none" by omission.
  const given =
    app.node.tryGetContext(CONTEXT.replicaRegions) === undefined
      ? undefined
      : listContext(app, CONTEXT.replicaRegions);
  const replicaRegions = (given ?? recorded?.replicaRegions ?? []).filter((r) => r !== region);
  for (const name of [region, ...replicaRegions]) {
    // A typo would otherwise surface only at deploy time, as a failed replica.
    if (!REGION_PATTERN.test(name)) throw new Error(`Not an AWS region name: "${name}"`);
  }
  // A first deploy creates the tables with every replica at once; updates add or remove one.
  if (recorded !== undefined) checkReplicaChange(key, recorded.replicaRegions, replicaRegions);
  if (app.outdir !== undefined) {
    mkdirSync(app.outdir, { recursive: true });
    writeFileSync(
      join(app.outdir, SYNTHESIZED_SETTINGS_FILE),
      JSON.stringify({ key, settingsFile, settings: { replicaRegions } }),
    );
  }
  const stack = new ChirpStack(app, stackName, {
    env: { region, account: process.env.CDK_DEFAULT_ACCOUNT },
    description: 'Chirp: serverless tweets and media backend',
    replicaRegions,
    corsOrigins: listContext(app, CONTEXT.corsOrigins),
    transcoderMemoryMb: intContext(app, CONTEXT.transcoderMemoryMb, 128, 10_240),
    transcoderReservedConcurrency: intContext(
      app,
      CONTEXT.transcoderReservedConcurrency,
      0,
      10_000,
    ),
    alarmEmail: stringContext(app, CONTEXT.alarmEmail),
    lambdaTracing: tracingContext(app),
    limits: Object.fromEntries(
      Object.entries(LIMIT_CONTEXT).flatMap(([key, variable]) => {
        const value = stringContext(app, key);
        return value === undefined ? [] : [[variable, value]];
      }),
    ),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

function tracingContext(app: App): 'active' | 'passThrough' | undefined {
  const value = stringContext(app, CONTEXT.lambdaTracing);
  if (value === undefined || value === 'active' || value === 'passThrough') return value;
  throw new Error(`Context ${CONTEXT.lambdaTracing} must be active or passThrough, not ${value}`);
}

function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`Context ${key} must be a string`);
  return value.trim();
}

/** An integer in [min, max] (from -c, a string, or cdk.json, a number), or undefined. */
function intContext(app: App, key: string, min: number, max: number): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    const shown = typeof value === 'string' ? value : JSON.stringify(value);
    throw new Error(`Context ${key} must be an integer from ${min} to ${max}, got "${shown}"`);
  }
  return number;
}

/** A comma-separated string (from -c) or a JSON array (from cdk.json). */
function listContext(app: App, key: string): string[] {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null) return [];
  const items: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'string'
      ? value.split(',')
      : [value];
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}
