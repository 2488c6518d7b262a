import { Match, Template } from 'aws-cdk-lib/assertions';
import { execFile } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildStack } from '../support/infraApp.js';

type Resource = { Type: string; Properties?: Record<string, unknown>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
let template: Template;
let resources: Record<string, Resource>;

beforeAll(() => {
  // GIVEN the stack of two sources, WHEN it synthesizes
  template = Template.fromStack(buildStack().stack);
  resources = template.toJSON().Resources as Record<string, Resource>;
}, 120_000);

const idOf = (predicate: (r: Resource) => boolean) => Object.entries(resources).find(([, r]) => predicate(r))![0];

describe('cdk destroy', () => {
  it('keeps only the lake bucket and its access-log bucket; every other resource is deleted', () => {
    const lake = idOf((r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('raw-to-infrequent-access'));
    const accessLogs = idOf((r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('"OwnershipControls"'));
    const retained = Object.entries(resources)
      .filter(([, r]) => r.DeletionPolicy !== undefined && r.DeletionPolicy !== 'Delete')
      .map(([id]) => id)
      .sort();
    expect(retained).toEqual([accessLogs, lake].sort());
    expect(resources[lake]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(resources[accessLogs]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  it('gives every bucket a removal policy: the lake and its logs retained, Athena results emptied and deleted', () => {
    const buckets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::S3::Bucket');
    expect(buckets).toHaveLength(3);
    const results = idOf((r) => r.Type === 'AWS::S3::Bucket' && JSON.stringify(r.Properties).includes('athena-results/'));
    const policies = Object.fromEntries(buckets.map(([id, r]) => [id, r.DeletionPolicy]));
    expect(Object.values(policies).sort()).toEqual(['Delete', 'Retain', 'Retain']);
    expect(policies[results]).toBe('Delete');
    // CloudFormation cannot delete a bucket holding query results: CDK's auto-delete custom resource empties it first.
    const autoDelete = Object.values(resources).filter((r) => r.Type === 'Custom::S3AutoDeleteObjects');
    expect(autoDelete).toHaveLength(1);
    expect(autoDelete[0]!.Properties!.BucketName).toEqual({ Ref: results });
  });

  it('deletes the log groups and the Glue database, which would otherwise survive and block a redeploy', () => {
    for (const type of ['AWS::Logs::LogGroup', 'AWS::Glue::Database', 'AWS::DynamoDB::Table', 'AWS::SQS::Queue']) {
      const found = Object.values(resources).filter((r) => r.Type === type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const r of found) expect(r.DeletionPolicy, type).toBe('Delete');
    }
  });
});

describe('dead-letter alarms', () => {
  it('tell the on-call engineer the redrive commands for their own queue', () => {
    for (const [queue, resource] of [
      ['failed', 'FailedInvocations'],
      ['undelivered', 'UndeliveredTicks'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp(resource), 'QueueName'] } }],
        AlarmDescription: Match.stringLikeRegexp(`\`apilake redrive --queue ${queue} --dry-run\`.*then \`apilake redrive --queue ${queue}\``),
      });
    }
  });
});

describe('deploying only what the user declares', () => {
  const synth = (args: string[], context?: Record<string, string>) =>
    promisify(execFile)(process.execPath, args, {
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', ...(context ? { CDK_CONTEXT_JSON: JSON.stringify(context) } : {}) },
      timeout: 120_000,
    }).catch((e: unknown) => e as { code: number; stdout: string; stderr: string });

  it('fails synth with a clear message when the sources folder holds no source', { timeout: 120_000 }, async () => {
    const empty = await mkdtemp(join(tmpdir(), 'apilake-nosources-'));
    const result = (await synth(['--import', 'tsx', 'infra/app.ts'], { sources: empty })) as { code: number; stderr: string };
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`no source definitions (*.yaml) in ${empty}/: nothing to deploy.`);
    expect(result.stderr).toContain('cp examples/github_issues.yaml');
  });

  it('npx cdk synth in a fresh clone deploys nothing: sources/ holds a README, the examples live in examples/', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'apilake-synth-'));
    const result = (await synth([join('node_modules', 'aws-cdk', 'bin', 'cdk'), 'synth', '--quiet', '--output', outdir])) as { code: number; stdout: string; stderr: string };
    expect(result.code).not.toBe(0);
    expect(`${result.stdout}${result.stderr}`).toContain('no source definitions (*.yaml) in sources/: nothing to deploy.');
  }, 120_000);
});
