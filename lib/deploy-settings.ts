/**
 * Deploy settings that must survive between deploys, recorded per stack and region in
 * deploy-settings.json (committed with the code) by `npm run deploy` after each successful
 * deploy. Today: the replica regions. The context is not persisted by the CDK, so without this a
 * later `cdk deploy` without `-c replicaRegions` would try to remove every replica.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const DEPLOY_SETTINGS_FILE = 'deploy-settings.json';
/** Where synth leaves the settings it used, for `npm run deploy` to record. */
export const SYNTHESIZED_SETTINGS_FILE = 'chirp-deploy-settings.json';

export interface DeploySettings {
  readonly replicaRegions: readonly string[];
}

/** The record's key: one stack name in one region. */
export const settingsKey = (stackName: string, region: string) => `${stackName}/${region}`;

type SettingsFile = Record<string, DeploySettings>;

function readAll(file: string): SettingsFile {
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as SettingsFile) : {};
}

export function readDeploySettings(file: string, key: string): DeploySettings | undefined {
  return readAll(file)[key];
}

export function recordDeploySettings(file: string, key: string, settings: DeploySettings): void {
  const all = readAll(file);
  all[key] = { replicaRegions: [...settings.replicaRegions].sort() };
  writeFileSync(file, `${JSON.stringify(all, null, 2)}\n`);
}

/**
 * CloudFormation adds or removes one global-table replica per stack update, so a change of more
 * than one region at once fails mid-deploy. Throws with the way through.
 */
export function checkReplicaChange(
  key: string,
  deployed: readonly string[],
  wanted: readonly string[],
): void {
  const added = wanted.filter((region) => !deployed.includes(region));
  const removed = deployed.filter((region) => !wanted.includes(region));
  if (added.length + removed.length <= 1) return;
  const next =
    added.length > 0 ? [...deployed, added[0]!] : deployed.filter((r) => r !== removed[0]);
  throw new Error(
    `${key}: replicaRegions would change from [${deployed.join(', ')}] to [${wanted.join(', ')}] ` +
      `(adding ${added.length}, removing ${removed.length}), but CloudFormation adds or removes one ` +
      `replica per update. Deploy one step at a time, e.g. -c replicaRegions=${next.join(',')} ` +
      `(an empty value removes the last), then the next. Replicas have deletion protection: ` +
      `turn it off for a replica before removing it (docs/deploy.md).`,
  );
}
