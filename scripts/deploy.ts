/**
 * `npm run deploy -- [cdk deploy arguments]`: runs `cdk deploy` and, once it succeeded, records the
 * settings the app synthesized with (lib/deploy-settings.ts) in deploy-settings.json, so the next
 * deploy starts from what is deployed. Commit the file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  recordDeploySettings,
  SYNTHESIZED_SETTINGS_FILE,
  type DeploySettings,
} from '../lib/deploy-settings';

const root = resolve(__dirname, '..');
const outdir = join(root, 'cdk.out');
const deploy = spawnSync('npx', ['cdk', 'deploy', '--output', outdir, ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
if (deploy.status !== 0) process.exit(deploy.status ?? 1);
const synthesized = join(outdir, SYNTHESIZED_SETTINGS_FILE);
if (!existsSync(synthesized)) throw new Error(`${synthesized} is missing: nothing recorded`);
const { key, settingsFile, settings } = JSON.parse(readFileSync(synthesized, 'utf8')) as {
  key: string;
  settingsFile: string;
  settings: DeploySettings;
};
recordDeploySettings(settingsFile, key, settings);
process.stdout.write(`recorded ${key}: ${JSON.stringify(settings)} in ${settingsFile}\n`);
