/**
 * What the durable function's tests share (Node 22, on the durable execution SDK's local runner):
 * the servers a test file starts once (the test API, moto and dynalite, and, where a backfill's task
 * waits, the task side of Step Functions' callback pattern), an execution's dependencies on a
 * bucket and an idempotency table of its own, and a runner whose invocations have a deadline the
 * test simulates (the local runner's Lambda context has none to spend).
 */

import { withDurableExecution, type DurableContext } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { DynamoClaimStore } from '../../functions/ingest/DynamoClaimStore.js';
import { durableIngest, type DurableIngestDeps } from '../../functions/ingest/durableIngest.js';
import type { IngestSummary } from '../../functions/ingest/ingest.js';
import { SfnTaskReports } from '../../functions/ingest/SfnTaskReports.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { LOCAL_AWS, startAwsServers, type AwsServers } from './awsServers.js';
import { testSource } from './sources.js';
import { startTaskTokenServer, type TaskTokenServer } from './taskTokenServer.js';
import { startTestApi, type TestApi, type TestApiOptions } from './testApi.js';

/** The window the durable tests land: one day. */
export const DAY = { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' };

/** The servers of a test file, readable once its `beforeAll` hooks have run. */
export interface DurableTestbed {
  readonly api: TestApi;
  readonly aws: AwsServers;
  /** The task side of the callback pattern, when started (`tasks: true`). */
  readonly tasks: TaskTokenServer;
  /** Whether `tasks` was started: then an execution's answers to a waiting task go to it. */
  readonly withTasks: boolean;
}

/** What a test file's testbed starts. */
export interface DurableTestbedOptions {
  /** @default the test API's defaults */
  readonly api?: TestApiOptions;
  /** Start the task token server too. @default false */
  readonly tasks?: boolean;
}

/** Starts the servers and the local runner's test environment before the file's tests, and stops them after. */
export function useDurableTestbed(options: DurableTestbedOptions = {}): DurableTestbed {
  let started: { api: TestApi; aws: AwsServers; tasks?: TaskTokenServer } | undefined;
  beforeAll(async () => {
    const api = await startTestApi(options.api);
    const aws = await startAwsServers();
    const tasks = options.tasks ? await startTaskTokenServer() : undefined;
    await LocalDurableTestRunner.setupTestEnvironment();
    started = { api, aws, ...(tasks ? { tasks } : {}) };
  }, 60_000);
  afterAll(async () => {
    await LocalDurableTestRunner.teardownTestEnvironment();
    await started?.tasks?.close();
    await started?.api.close();
    await started?.aws.stop();
  });
  const servers = () => {
    if (!started) throw new Error('the durable testbed starts in beforeAll: read it inside a test or a later hook');
    return started;
  };
  return {
    get api() {
      return servers().api;
    },
    get aws() {
      return servers().aws;
    },
    get tasks() {
      const { tasks } = servers();
      if (!tasks) throw new Error('this testbed was started without a task token server (tasks: true)');
      return tasks;
    },
    withTasks: options.tasks === true,
  };
}

/** The test API's items under `/cursor`, `limit` a page, in windows of a day, with room for a page a record. */
export function dailyCursorSource(apiUrl: string, limit: number, extra: Record<string, unknown> = {}): SourceDefinition {
  return testSource(
    apiUrl,
    {
      path: '/cursor',
      params: { since: '{window.start}', until: '{window.end}', limit },
      records: 'data',
      pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor', max_pages: 10_000 },
      window: '1d',
    },
    extra,
  );
}

/**
 * An execution's dependencies: S3 and an idempotency table of its own on the testbed's servers,
 * no secrets, a silent logger, and the task server's answers when the testbed has one; `overrides` last.
 * `claims` reads the table's records (the windows' claims).
 */
export async function durableDeps(
  bed: DurableTestbed,
  source: SourceDefinition,
  overrides: Partial<DurableIngestDeps> = {},
): Promise<{ deps: DurableIngestDeps; storage: S3LakeStorage; claims: () => Promise<Record<string, unknown>[]> }> {
  const { aws } = bed;
  const bucket = `durable-${Math.random().toString(36).slice(2, 10)}`;
  const table = `idem-${Math.random().toString(36).slice(2, 10)}`;
  await aws.createBucket(bucket);
  await aws.createIdempotencyTable(table);
  const storage = new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) });
  const deps: DurableIngestDeps = {
    source,
    storage,
    secrets: new EnvSecretProvider({}),
    persistenceStore: new DynamoClaimStore({ tableName: table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'SILENT' }),
    metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
    deadlineMarginMs: 2_000,
    ...(bed.withTasks ? { taskReports: new SfnTaskReports(new SFNClient({ ...LOCAL_AWS, endpoint: bed.tasks.endpoint, maxAttempts: 1 })) } : {}),
    ...overrides,
  };
  const dynamo = new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint });
  const claims = async () => ((await dynamo.send(new ScanCommand({ TableName: table }))).Items ?? []).map((item) => unmarshall(item));
  return { deps, storage, claims };
}

/** How the runner's invocations run. */
export interface DurableRunnerOptions {
  /**
   * Called as each invocation starts; returns what that invocation's Lambda context answers for
   * its remaining time. @default 600 s throughout
   */
  readonly deadline?: () => () => number;
  /** Waits a second after the function returns, so that the next invocation replays every step. @default false */
  readonly thenWait?: boolean;
}

/** The local runner of the durable function with `deps`, each invocation with the deadline `options` simulates. */
export function durableRunner(deps: DurableIngestDeps, options: DurableRunnerOptions = {}): LocalDurableTestRunner<IngestSummary> {
  const deadline = options.deadline ?? (() => () => 600_000);
  const handler = withDurableExecution(async (event: unknown, ctx: DurableContext) => {
    const result = await durableIngest(event, withLambdaContext(ctx, { ...ctx.lambdaContext, getRemainingTimeInMillis: deadline() }), deps);
    if (options.thenWait) await ctx.wait('after the report', { seconds: 1 });
    return result;
  });
  return new LocalDurableTestRunner<IngestSummary>({ handlerFunction: handler });
}

/** A remaining time spent by the pages `api` serves from now on, `pageMs` each, out of `invocationMs`. */
export function pagedDeadline(api: TestApi, pageMs: number, invocationMs: number): () => number {
  const from = api.requests.length;
  return () => invocationMs - (api.requests.length - from) * pageMs;
}

/** The durable context with `lambdaContext` in place of the runner's. */
function withLambdaContext(ctx: DurableContext, lambdaContext: Context): DurableContext {
  return new Proxy(ctx, {
    get(target, property) {
      if (property === 'lambdaContext') return lambdaContext;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
