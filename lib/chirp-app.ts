import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV } from '../app/model';
import { ChirpStack } from './chirp-stack';

/** Context keys the app reads (`-c key=value`). */
export const CONTEXT = {
  region: 'region',
  replicaRegions: 'replicaRegions',
  corsOrigins: 'corsOrigins',
  stackName: 'stackName',
  alarmEmail: 'alarmEmail',
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
  const replicaRegions = listContext(app, CONTEXT.replicaRegions).filter((r) => r !== region);
  for (const name of [region, ...replicaRegions]) {
    // A typo would otherwise surface only at deploy time, as a failed replica.
    if (!REGION_PATTERN.test(name)) throw new Error(`Not an AWS region name: "${name}"`);
  }
  const stack = new ChirpStack(app, stringContext(app, CONTEXT.stackName) ?? 'Chirp', {
    env: { region, account: process.env.CDK_DEFAULT_ACCOUNT },
    description: 'Chirp: serverless tweets and media backend',
    replicaRegions,
    corsOrigins: listContext(app, CONTEXT.corsOrigins),
    alarmEmail: stringContext(app, CONTEXT.alarmEmail),
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

function stringContext(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new Error(`Context ${key} must be a string`);
  return value.trim();
}

/** A comma-separated string (from -c) or a JSON array (from cdk.json). */
function listContext(app: App, key: string): string[] {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : String(value).split(',');
  return items.map((item) => String(item).trim()).filter((item) => item.length > 0);
}
