/**
 * A window whose step fails for good (here the source's secret cannot be read, so the slice cannot
 * start) is a failed window like any other: the claim is released and the task waiting for it is
 * answered, so the next delivery lands the window instead of reporting it landed.
 */
import { withDurableExecution, type DurableContext } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { durableIngest, type DurableIngestDeps } from '../../functions/ingest/durableIngest.js';
import type { IngestSummary } from '../../functions/ingest/ingest.js';
import { SfnTaskReports } from '../../functions/ingest/SfnTaskReports.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { testSource } from '../support/sources.js';
import { startTaskTokenServer, type TaskTokenServer } from '../support/taskTokenServer.js';
import { startTestApi, type TestApi } from '../support/testApi.js';
import { withLambdaContext } from '../support/durableContext.js';

const DAY = { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' };
let api: TestApi;
let aws: AwsServers;
let tasks: TaskTokenServer;
beforeAll(async () => {
  api = await startTestApi({ count: 20, spacingMs: 3_600_000 });
  aws = await startAwsServers();
  tasks = await startTaskTokenServer();
  await LocalDurableTestRunner.setupTestEnvironment();
}, 60_000);
afterAll(async () => {
  await LocalDurableTestRunner.teardownTestEnvironment();
  await tasks.close();
  await api.close();
  await aws.stop();
});

function runner(deps: DurableIngestDeps) {
  const handler = withDurableExecution(async (event: unknown, ctx: DurableContext) => {
    const lambdaContext = { ...ctx.lambdaContext, getRemainingTimeInMillis: () => 600_000 };
    const withDeadline = withLambdaContext(ctx, lambdaContext);
    return durableIngest(event, withDeadline, deps);
  });
  return new LocalDurableTestRunner<IngestSummary>({ handlerFunction: handler });
}

it('releases the claim of a window whose step failed for good and answers its task, so the next delivery lands it', async () => {
  const bucket = `rev-${Math.random().toString(36).slice(2, 10)}`;
  const table = `idem-${Math.random().toString(36).slice(2, 10)}`;
  await aws.createBucket(bucket);
  await aws.createIdempotencyTable(table);
  const storage = new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) });
  const source = testSource(
    api.url,
    {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit: 5 },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' },
      window: '1d',
    },
    { auth: { type: 'api_key', secret: 'apilake/t', in: 'query', name: 'api_key' } },
  );
  const base = {
    source,
    storage,
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
    deadlineMarginMs: 2_000,
    taskReports: new SfnTaskReports(new SFNClient({ ...LOCAL_AWS, endpoint: tasks.endpoint, maxAttempts: 1 })),
  };
  // First execution: the secret cannot be read (Secrets Manager outage): createSourceClient throws inside the slice step.
  const first = tasks.wait();
  const e1 = await runner({ ...base, secrets: new EnvSecretProvider({}) }).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken: first } });
  // The map owns the failure: the execution ends, the task hears it.
  expect(e1.getStatus()).toBe('SUCCEEDED');
  expect(e1.getResult()?.streams[0]).toMatchObject({ status: 'failed' });
  expect(tasks.answers.filter((a) => a.taskToken === first).map((a) => a.operation)).toEqual(['SendTaskFailure']);
  // Second execution (the map's item run again, or a re-run of the range, or a redrive): the secret is back.
  const second = tasks.wait();
  const e2 = await runner({ ...base, secrets: new EnvSecretProvider({ APILAKE_SECRET_APILAKE_T: JSON.stringify({ api_key: 'key-0123456789' }) }) }).run({
    payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken: second },
  });
  expect(e2.getStatus()).toBe('SUCCEEDED');
  expect(e2.getResult()?.streams[0]).toMatchObject({ status: 'committed', records: 20 });
  expect(tasks.answers.filter((a) => a.taskToken === second).map((a) => a.operation)).toEqual(['SendTaskSuccess']);
  expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
}, 120_000);
