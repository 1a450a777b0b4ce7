import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildChirpApp } from '../../lib/chirp-app';
import { synthChirp } from './synth';

interface ValidationReport {
  pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string }> }>;
}

function readReport(outdir: string): ValidationReport {
  return JSON.parse(
    fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
}

describe('cdk-nag AwsSolutions', () => {
  it.each([
    ['single region', {}],
    ['three regions', { replicaRegions: 'us-west-2,eu-west-1' }],
  ])('reports no unacknowledged finding (%s)', (_name, context) => {
    const { outdir } = synthChirp({ context });
    try {
      const report = readReport(outdir);
      const violations = report.pluginReports.flatMap((plugin) =>
        plugin.violations.map((violation) => `${plugin.pluginName}: ${violation.ruleName}`),
      );
      expect(violations).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it('runs on every synth: an unacknowledged finding fails it and lands in the report', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-nag-'));
    try {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
      const stack: Stack = buildChirpApp(app);
      // A bucket without TLS enforcement or access logs, as a careless change would add.
      new s3.Bucket(stack, 'CarelessBucket');
      expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
      const rules = readReport(outdir).pluginReports.flatMap((plugin) =>
        plugin.violations.map((violation) => violation.ruleName),
      );
      expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
