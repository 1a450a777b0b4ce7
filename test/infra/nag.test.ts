import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildChirpApp } from '../../lib/chirp-app';
import { CDK_JSON_CONTEXT, synthChirp } from './synth';

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
      const app = new App({
        outdir,
        context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] },
      });
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

  it('acknowledges only findings that occur, on the construct where they occur', () => {
    // Record the acknowledgements instead of applying them, and see what the pack then reports.
    const acknowledgements: Array<{ path: string; id: string }> = [];
    const acknowledge = jest
      .spyOn(Validations.prototype, 'acknowledge')
      .mockImplementation(function (this: Validations, ...rules) {
        const scope = (this as unknown as { scope: { node: { path: string } } }).scope;
        for (const rule of rules) acknowledgements.push({ path: scope.node.path, id: rule.id });
      });
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-nag-'));
    try {
      const app = new App({
        outdir,
        context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] },
      });
      buildChirpApp(app);
      expect(() => app.synth()).toThrow();
      const findings = readReport(outdir).pluginReports.flatMap((plugin) =>
        plugin.violations.flatMap((violation) =>
          (
            violation as unknown as { violatingConstructs: Array<{ constructPath: string }> }
          ).violatingConstructs.map((construct) => ({
            id: violation.ruleName,
            path: construct.constructPath,
          })),
        ),
      );
      const ours = acknowledgements.filter(
        (ack) => ack.id.startsWith('AwsSolutions-') || ack.id.startsWith('Annotation::'),
      );
      expect(ours.length).toBeGreaterThan(0);
      const stale = ours.filter(
        (ack) =>
          !findings.some(
            (finding) =>
              finding.id === ack.id &&
              (finding.path === ack.path || finding.path.startsWith(`${ack.path}/`)),
          ),
      );
      expect(stale).toEqual([]);
    } finally {
      acknowledge.mockRestore();
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
