/**
 * A backfill window's durable execution answers the Step Functions task that waits for it, on the
 * durable execution SDK's local runner with moto's S3, dynalite's idempotency table and a server
 * that plays the task side of the callback pattern (test/support/taskTokenServer.ts): the summary
 * of a landed window, the failure of one that did not land, once however often the execution is
 * replayed, and a token that is no longer waited for only logged.
 */

import { withDurableExecution, type DurableContext } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { durableIngest, REPORT_STEP, type DurableIngestDeps } from '../../functions/ingest/durableIngest.js';
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

async function setUp(): Promise<{ deps: DurableIngestDeps; storage: S3LakeStorage; logger: Logger }> {
  const bucket = `report-${Math.random().toString(36).slice(2, 10)}`;
  const table = `idem-${Math.random().toString(36).slice(2, 10)}`;
  await aws.createBucket(bucket);
  await aws.createIdempotencyTable(table);
  const storage = new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) });
  const logger = new Logger({ serviceName: 'apilake', logLevel: 'SILENT' });
  const deps: DurableIngestDeps = {
    source: testSource(api.url, {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit: 5 },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' },
      window: '1d',
    }),
    storage,
    secrets: new EnvSecretProvider({}),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
    logger,
    metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
    deadlineMarginMs: 2_000,
    taskReports: new SfnTaskReports(new SFNClient({ ...LOCAL_AWS, endpoint: tasks.endpoint, maxAttempts: 1 })),
  };
  return { deps, storage, logger };
}

/** The durable function with a long invocation deadline; `thenWait` adds a wait after it, whose next invocation replays every step. */
function runner(deps: DurableIngestDeps, options: { thenWait?: boolean } = {}) {
  const handler = withDurableExecution(async (event: unknown, ctx: DurableContext) => {
    const lambdaContext = { ...ctx.lambdaContext, getRemainingTimeInMillis: () => 600_000 };
    const withDeadline = withLambdaContext(ctx, lambdaContext);
    const result = await durableIngest(event, withDeadline, deps);
    if (options.thenWait) await ctx.wait('after the report', { seconds: 1 });
    return result;
  });
  return new LocalDurableTestRunner<IngestSummary>({ handlerFunction: handler });
}

const answersTo = (token: string) => tasks.answers.filter((a) => a.taskToken === token);

describe("the durable function answers a backfill's waiting task", () => {
  it('with the summary of the window it landed, once, even when the execution is replayed after the answer', async () => {
    const { deps, storage } = await setUp();
    const taskToken = tasks.wait();
    const execution = await runner(deps, { thenWait: true }).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getInvocations().length).toBeGreaterThanOrEqual(2);
    const result = execution.getResult()!;
    expect(result.streams).toMatchObject([{ stream: 'items', status: 'committed', records: 20 }]);
    expect(answersTo(taskToken)).toEqual([{ operation: 'SendTaskSuccess', taskToken, output: JSON.stringify(result), reply: 'accepted' }]);
    expect(execution.getOperations().filter((o) => o.getName() === REPORT_STEP)).toHaveLength(1);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
  }, 120_000);

  it("with WindowsFailedError and a cause naming the window and the API's error, and the execution does not fail too", async () => {
    const { deps } = await setUp();
    const taskToken = tasks.wait();
    api.failWhen(() => true, { kind: 'status', status: 404, body: '{"error":"no such page"}' }, 1);
    const execution = await runner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    // The map has the failure reported to it and tries the window again: Lambda must not retry the event nor dead-letter it.
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getResult()!.streams).toMatchObject([{ stream: 'items', status: 'failed' }]);
    const [answer, ...more] = answersTo(taskToken);
    expect(more).toEqual([]);
    expect(answer).toMatchObject({ operation: 'SendTaskFailure', error: 'WindowsFailedError', reply: 'accepted' });
    expect(answer!.cause).toMatch(/^1 window\(s\) failed: items \[2024-01-01T00:00:00Z, 2024-01-02T00:00:00Z\): .*404/);
  }, 120_000);

  it('and logs a token the task no longer waits for, without trying the answer again', async () => {
    const { deps, logger } = await setUp();
    const warn = vi.spyOn(logger, 'warn');
    const taskToken = tasks.wait();
    tasks.timeOut(taskToken);
    const execution = await runner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(answersTo(taskToken).map((a) => a.reply)).toEqual(['TaskTimedOut']);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/no longer waits for this window's outcome/), expect.objectContaining({ outcome: 'landed' }));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(taskToken);
  }, 120_000);

  it('again after the service failed to take the answer', async () => {
    const { deps } = await setUp();
    const taskToken = tasks.wait();
    tasks.failNext(1);
    const execution = await runner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(answersTo(taskToken).map((a) => a.reply)).toEqual(['ServiceFault', 'accepted']);
  }, 120_000);

  it('only when the event has a token: without one, a failed window fails the execution', async () => {
    const { deps } = await setUp();
    const before = tasks.answers.length;
    api.failWhen(() => true, { kind: 'status', status: 404 }, 1);
    const execution = await runner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
    expect(execution.getStatus()).toBe('FAILED');
    expect(execution.getError()?.errorType).toBe('WindowsFailedError');
    expect(tasks.answers.length).toBe(before);
  }, 120_000);
});
