/**
 * A slice that runs into its deadline after earlier slices of the window finished parts is tried
 * again from its checkpoint: a one-off slowdown of the API is not a part too slow for the function.
 */
import { withDurableExecution, type DurableContext } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../functions/clock.js';
import { durableIngest } from '../../functions/ingest/durableIngest.js';
import type { IngestDeps, IngestSummary } from '../../functions/ingest/ingest.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { testSource } from '../support/sources.js';
import { startTestApi, type TestApi } from '../support/testApi.js';
import { withLambdaContext } from '../support/durableContext.js';

const DAY = { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' };
const PAGE_MS = 2_000;
const PAGES = 200;
const INVOCATION_MS = 120_000;
let api: TestApi;
let aws: AwsServers;
beforeAll(async () => {
  api = await startTestApi({ count: PAGES, spacingMs: 86_400_000 / PAGES });
  aws = await startAwsServers();
  await LocalDurableTestRunner.setupTestEnvironment();
}, 60_000);
afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  await api.close();
  await aws.stop();
});

it('tries a resumed slice again when a one-off stall makes it miss its deadline, and lands the window', async () => {
  const bucket = `rev-${Math.random().toString(36).slice(2, 10)}`;
  const table = `idem-${Math.random().toString(36).slice(2, 10)}`;
  await aws.createBucket(bucket);
  await aws.createIdempotencyTable(table);
  const STALL_AT = 50; // a request of the second slice (the first lands about 35 pages)
  const STALL_MS = 60_000;
  const base = api.requests.length;
  const stall = (from: number, to: number) => (from - base < STALL_AT && to - base >= STALL_AT ? STALL_MS : 0);
  const epoch = Date.parse('2024-02-01T00:00:00Z');
  const clock: Clock = { now: () => epoch + api.requests.length * PAGE_MS + (api.requests.length - base >= STALL_AT ? STALL_MS : 0), sleep: (ms, s) => systemClock.sleep(ms, s) };
  const deps: IngestDeps = {
    source: testSource(
      api.url,
      {
        path: '/cursor',
        params: { since: '{window.start}', until: '{window.end}', limit: 1 },
        records: 'data',
        pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor', max_pages: 10_000 },
        window: '1d',
      },
      { lake: { part_size_mb: 0.0105, parquet: true } },
    ),
    storage: new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) }),
    secrets: new EnvSecretProvider({}),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
    deadlineMarginMs: 2_000,
    clock,
  };
  const handler = withDurableExecution(async (event: unknown, ctx: DurableContext) => {
    const from = api.requests.length;
    const lambdaContext: Context = { ...ctx.lambdaContext, getRemainingTimeInMillis: () => INVOCATION_MS - (api.requests.length - from) * PAGE_MS - stall(from, api.requests.length) };
    const c = withLambdaContext(ctx, lambdaContext);
    return durableIngest(event, c, deps);
  });
  const execution = await new LocalDurableTestRunner<IngestSummary>({ handlerFunction: handler }).run({ payload: { source: 'testapi', window: DAY } });
  expect(execution.getStatus()).toBe('SUCCEEDED');
  expect(execution.getResult()?.streams[0]).toMatchObject({ status: 'committed', records: PAGES });
  // More slices than pages ÷ a slice's share: the stalled one ended without a part and was tried again.
  expect(execution.getOperations().filter((o) => / slice \d+$/.test(o.getName() ?? '')).length).toBeGreaterThan(1);
}, 300_000);
