import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseSource } from '../../functions/config/loadSources.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { manifestKey, partKey } from '../../functions/sink/lakeLayout.js';
import { buildManifest, serializeManifest } from '../../functions/sink/manifest.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { pollDelayMs, runAthenaQuery } from '../../cli/remote/runAthenaQuery.js';
import { resolveAthena, resolveFunctionName, resolveQueueUrl } from '../../cli/remote/stackOutputs.js';
import { lakeStatus } from '../../cli/status/lakeStatus.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { ManualClock } from '../support/manualClock.js';

const athenaMock = mockClient(AthenaClient);
let aws: AwsServers;

beforeAll(async () => {
  aws = await startAwsServers();
});
afterAll(() => aws.stop());
beforeEach(() => {
  athenaMock.reset();
});

const SOURCE = parseSource(
  JSON.stringify({
    name: 'shop',
    schedule: 'rate(1 hour)',
    base_url: 'https://api.shop.test',
    rate_limit: { requests_per_second: 2 },
    streams: [
      { name: 'orders', path: '/orders', window: '1h' },
      { name: 'customers', path: '/customers', window: '1d' },
    ],
  }),
  'shop.yaml',
);

// A backfill in AWS is tested against moto's Step Functions in backfillInAws.test.ts.

// Redrive is tested against moto SQS with both documented dead-letter formats in redrive.test.ts.

// moto runs Athena queries to success at once, on one page (athenaQuery.test.ts); queueing, polling,
// paging and failure are scripted here.
describe('Athena queries', () => {
  it('starts in the workgroup, polls with backoff, pages through results and reports bytes scanned', async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-1' });
    athenaMock
      .on(GetQueryExecutionCommand)
      .resolvesOnce({ QueryExecution: { Status: { State: 'QUEUED' } } })
      .resolvesOnce({ QueryExecution: { Status: { State: 'RUNNING' } } })
      .resolves({ QueryExecution: { Status: { State: 'SUCCEEDED' }, Statistics: { DataScannedInBytes: 12_345 } } });
    const columns = {
      ResultSetMetadata: {
        ColumnInfo: [
          { Name: 'dt', Type: 'varchar' },
          { Name: 'n', Type: 'bigint' },
        ],
      },
    };
    athenaMock
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: undefined })
      .resolves({ ResultSet: { ...columns, Rows: [{ Data: [{ VarCharValue: 'dt' }, { VarCharValue: 'n' }] }, { Data: [{ VarCharValue: '2024-01-01' }, { VarCharValue: '24' }] }] }, NextToken: 't2' })
      .on(GetQueryResultsCommand, { QueryExecutionId: 'q-1', NextToken: 't2' })
      .resolves({ ResultSet: { ...columns, Rows: [{ Data: [{ VarCharValue: '2024-01-02' }, {}] }] } });
    const clock = new ManualClock();
    const result = await runAthenaQuery('SELECT dt, count(*) n FROM shop_orders GROUP BY 1', { client: new AthenaClient(LOCAL_AWS), workGroup: 'apilake-prod', database: 'apilake_prod', clock });
    expect(athenaMock.commandCalls(StartQueryExecutionCommand)[0]!.args[0].input).toEqual({
      QueryString: 'SELECT dt, count(*) n FROM shop_orders GROUP BY 1',
      WorkGroup: 'apilake-prod',
      QueryExecutionContext: { Database: 'apilake_prod' },
    });
    expect(clock.sleeps).toEqual([200, 400, 800]);
    expect(result).toEqual({
      executionId: 'q-1',
      columns: ['dt', 'n'],
      columnTypes: ['varchar', 'bigint'],
      rows: [
        ['2024-01-01', '24'],
        ['2024-01-02', null],
      ],
      scannedBytes: 12_345,
    });
  });

  it("fails with Athena's reason", async () => {
    athenaMock.on(StartQueryExecutionCommand).resolves({ QueryExecutionId: 'q-2' });
    athenaMock.on(GetQueryExecutionCommand).resolves({ QueryExecution: { Status: { State: 'FAILED', StateChangeReason: "TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist" } } });
    await expect(runAthenaQuery('SELECT 1 FROM x', { client: new AthenaClient(LOCAL_AWS), workGroup: 'w', database: 'd', clock: new ManualClock() })).rejects.toThrow(
      "Athena query q-2 failed: TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist",
    );
  });

  it.each([
    [0, 200],
    [3, 1600],
    [10, 5000],
  ])('poll %i waits %i ms', (n, ms) => expect(pollDelayMs(n)).toBe(ms));
});

describe('status: gaps found exactly', () => {
  const hour = (h: number) => ({ start: new Date(Date.UTC(2024, 0, 1, h)), end: new Date(Date.UTC(2024, 0, 1, h + 1)) });
  const RUN = '20240101T120000Z-0123456789ab';
  const ref = (stream: string, window: { start: Date; end: Date }) => ({ source: 'shop', stream, window });
  const manifestFor = (stream: string, window: { start: Date; end: Date }, records: number, commit = 1) =>
    serializeManifest(
      buildManifest({
        ref: ref(stream, window),
        commit,
        runId: RUN,
        startedAt: new Date('2024-01-01T12:00:00Z'),
        committedAt: new Date('2024-01-01T12:00:01Z'),
        parts: [{ key: partKey(ref(stream, window), RUN, 0), records, bytes: 100, sha256: 'a'.repeat(64) }],
        pages: 1,
        requests: 1,
        retries: 0,
        throttled: 0,
      }),
    );

  async function seed(storage: LakeStorage) {
    // orders: hours 0-2, 5, 8-9 committed → gaps [3,5) and [6,8); customers: nothing.
    for (const h of [0, 1, 2, 5, 8]) await storage.writeBytes(manifestKey(ref('orders', hour(h)), 1), manifestFor('orders', hour(h), 10 + h));
    // Hour 9 was replaced by a forced re-run: only its current commit (2) counts.
    await storage.writeBytes(manifestKey(ref('orders', hour(9)), 1), manifestFor('orders', hour(9), 999));
    await storage.writeBytes(manifestKey(ref('orders', hour(9)), 2), manifestFor('orders', hour(9), 19, 2));
    // Hour 6 holds a truncated commit: reported, and counted as not committed (a gap), never fatal.
    await storage.writeBytes(manifestKey(ref('orders', hour(6)), 1), manifestFor('orders', hour(6), 16).slice(0, 40));
    // A manifest of an older 30m window size is reported, not counted.
    const old = { start: new Date(Date.UTC(2024, 0, 1, 3)), end: new Date(Date.UTC(2024, 0, 1, 3, 30)) };
    await storage.writeBytes(manifestKey(ref('orders', old), 1), manifestFor('orders', old, 1));
  }

  const expected = [
    {
      stream: 'orders',
      window: '1h',
      committed: 6,
      records: 10 + 11 + 12 + 15 + 18 + 19,
      first: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' },
      last: { start: '2024-01-01T09:00:00Z', end: '2024-01-01T10:00:00Z' },
      gaps: [
        { start: '2024-01-01T03:00:00Z', end: '2024-01-01T05:00:00Z', windows: 2 },
        { start: '2024-01-01T06:00:00Z', end: '2024-01-01T08:00:00Z', windows: 2 },
      ],
      behind: { start: '2024-01-01T10:00:00Z', end: '2024-01-01T12:00:00Z', windows: 2 },
      otherSizes: 1,
      unreadable: [{ key: manifestKey(ref('orders', hour(6)), 1), reason: expect.stringContaining('is not valid JSON') as string }],
      orphanParts: 0,
      incompleteWrites: 0,
      // No symlink files were seeded for the seven readable windows with parts.
      missingSymlinks: 7,
      tableDrift: [],
    },
    { stream: 'customers', window: '1d', committed: 0, records: 0, gaps: [], otherSizes: 0, unreadable: [], orphanParts: 0, incompleteWrites: 0, missingSymlinks: 0, tableDrift: [] },
  ];
  const now = new Date('2024-01-01T12:34:00Z');

  it('on disk', async () => {
    const storage = new FsLakeStorage(await mkdtemp(join(tmpdir(), 'apilake-status-')));
    await seed(storage);
    expect(await lakeStatus(storage, SOURCE, { now })).toEqual(expected);
  });

  it('in an S3 bucket (moto)', async () => {
    await aws.createBucket('status-lake');
    const storage = new S3LakeStorage({ bucket: 'status-lake', client: aws.s3 });
    await seed(storage);
    expect(await lakeStatus(storage, SOURCE, { now })).toEqual(expected);
    expect(await lakeStatus(storage, SOURCE, { now, stream: 'orders' })).toHaveLength(1);
  });
});

describe('stack outputs', () => {
  it('finds function, queue and Athena names from cdk deploy --outputs-file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'apilake-outputs-'));
    const file = join(dir, 'cdk-outputs.json');
    await writeFile(
      file,
      JSON.stringify({
        'apilake-prod': { FunctionNameShop: 'apilake-prod-shop', FailedInvocationsQueueUrl: 'https://sqs/q', AthenaWorkGroup: 'apilake-prod', GlueDatabase: 'apilake_prod' },
        'apilake-dev': { FunctionNameShop: 'apilake-dev-shop' },
      }),
    );
    expect(await resolveFunctionName('shop', { outputs: file, stage: 'prod' })).toBe('apilake-prod-shop');
    expect(await resolveQueueUrl({ outputs: file, stage: 'prod' })).toBe('https://sqs/q');
    expect(await resolveAthena({ outputs: file, stage: 'prod' })).toEqual({ workGroup: 'apilake-prod', database: 'apilake_prod' });
    await expect(resolveFunctionName('shop', { outputs: file })).rejects.toThrow(/holds stacks apilake-prod, apilake-dev: pick one with --stage, or pass --function NAME/);
    await expect(resolveQueueUrl({ outputs: file, stage: 'dev' })).rejects.toThrow(/no FailedInvocationsQueueUrl; pass --queue URL/);
    await expect(resolveFunctionName('shop', { outputs: file, stage: 'staging' })).rejects.toThrow(
      `--stage staging: ${file} holds no stack apilake-staging (it holds apilake-prod, apilake-dev): deploy that stage with \`npx cdk deploy -c stage=staging --outputs-file ${file}\`, pick another --stage, or pass --function NAME`,
    );
    await expect(resolveFunctionName('shop', { outputs: file, stage: 'x; rm -rf ~' })).rejects.toThrow(
      `--stage "x; rm -rf ~" is not a stage name: a stage matches [a-z][a-z0-9-]{0,19} (${file} holds apilake-prod, apilake-dev)`,
    );
    await expect(resolveFunctionName('shop', { outputs: join(dir, 'missing.json') })).rejects.toThrow(/npx cdk deploy --outputs-file/);
    expect(await resolveFunctionName('shop', { outputs: join(dir, 'missing.json'), function: 'explicit' })).toBe('explicit');
  });
});
