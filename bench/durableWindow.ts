/**
 * Child-process entry, run on Node 22 (the durable execution SDK's engine): lands one long window
 * twice from the bench API into moto's S3 and prints what it measured as JSON.
 *
 * 1. Sliced: the deployed durable function's body (`durableIngest`, as functions/ingest/durableHandler.ts
 *    wraps it) under the SDK's own `LocalDurableTestRunner`, which plays the durable execution
 *    service: it invokes the handler, stores each step's result through its checkpoint API, and
 *    invokes the handler again after each `wait`, replaying the finished steps. Each invocation
 *    gets a Lambda context whose remaining time counts down in real time from `invocationMs`, as
 *    Lambda's does; the deadline margin is the deployed default.
 * 2. Uninterrupted: the same engine (`runWindowSlice`) with no stop, in one go: once before the
 *    sliced run and once after it, under the sliced run's run id (the one compared byte for byte).
 *
 * Both runs share a clock whose wall time stands still (timers and the monotonic clock are real):
 * every envelope's `_extracted_at` is then the same in both, so their raw parts can be compared byte
 * for byte. Then it compares the two commits: the sha256 of every raw part, and of the records'
 * own bytes in order, and checks every record id once and in order.
 */

import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { withDurableExecution, type DurableContext } from '@aws/durable-execution-sdk-js';
import { LocalDurableTestRunner } from '@aws/durable-execution-sdk-js-testing';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import type { Context } from 'aws-lambda';
import { systemClock, type Clock } from '../functions/clock.js';
import { parseSource } from '../functions/config/loadSources.js';
import { createSourceClient } from '../functions/engine/createSourceClient.js';
import { runWindowSlice } from '../functions/engine/runWindowSlice.js';
import { DynamoClaimStore } from '../functions/ingest/DynamoClaimStore.js';
import { durableIngest, type SliceStep } from '../functions/ingest/durableIngest.js';
import type { IngestSummary } from '../functions/ingest/ingest.js';
import { DEFAULT_DEADLINE_MARGIN_MS } from '../functions/ingest/runtimeConfig.js';
import { EnvSecretProvider } from '../functions/secrets/SecretProvider.js';
import { snapshotStream } from '../functions/sink/lakeSnapshot.js';
import type { LakeStorage } from '../functions/sink/LakeStorage.js';
import { S3LakeStorage } from '../functions/sink/S3LakeStorage.js';
import type { PageFetches } from './benchApi.js';

/** What to land, and where. */
export interface DurableWindowOptions {
  readonly url: string;
  readonly s3Endpoint: string;
  readonly dynamoEndpoint: string;
  /** An existing bucket; the runs land under `before/`, `sliced/` and `whole/`. */
  readonly bucket: string;
  /** An existing idempotency table (key `id`). */
  readonly idempotencyTable: string;
  /** Records of the window: their ids count from `firstId` in page order. */
  readonly records: number;
  readonly firstId: number;
  /** Each invocation's time, as the function's timeout. */
  readonly invocationMs: number;
  readonly partSizeMb: number;
}

/** One slice step of the sliced run, timed. */
interface SliceTiming {
  /** The step's function: landing pages, writing parts, and the commit in the last slice. */
  readonly runMs: number;
  /** From the function's return to the step's promise settling: the SDK serialises the result and stores it through the checkpoint API. */
  readonly checkpointMs: number;
  /** JSON.stringify of the result alone, timed apart. */
  readonly serialiseMs: number;
  readonly resultBytes: number;
  readonly kind: SliceStep['kind'];
}

/** One commit, read back. */
interface Landed {
  readonly commits: number;
  readonly orphanParts: number;
  readonly parts: number;
  readonly partSha256: readonly string[];
  /** sha256 of the parts' sha256 values in order. */
  readonly rawPartsSha256: string;
  /** sha256 of every record's bytes (the API's, from each envelope's `data`) in order. */
  readonly recordsSha256: string;
  readonly records: number;
  /** Records missing, landed twice or out of order. */
  readonly recordErrors: number;
  readonly runId: string;
}

/** What this child prints. */
export interface DurableWindowRun {
  readonly node: string;
  readonly status: string;
  readonly invocations: number;
  readonly slices: number;
  readonly durableOperations: number;
  readonly slicedMs: number;
  /** CPU time of this process (every thread: the runner's checkpoint server included) over the sliced run. */
  readonly slicedCpuMs: number;
  /** The uninterrupted runs: before the sliced run and after it. */
  readonly wholeMs: readonly [number, number];
  readonly wholeCpuMs: readonly [number, number];
  /** Each slice's own time, in order. */
  readonly sliceRunMs: readonly number[];
  readonly slicesRunMs: number;
  readonly checkpointMs: number;
  readonly serialiseMs: number;
  readonly largestCheckpointBytes: number;
  readonly pagesPerSlice: readonly number[];
  readonly fetchesSliced: PageFetches;
  readonly fetchesWhole: PageFetches;
  readonly sliced: Landed;
  readonly whole: Landed;
}

const options = JSON.parse(process.argv[2]!) as DurableWindowOptions;
const WINDOW = { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' };
/** Wall time that stands still, a day after the window (so it is ready); waits and the monotonic clock are real. */
const frozenClock: Clock = { now: () => Date.parse('2024-01-02T00:00:00Z'), monotonic: () => performance.now(), sleep: (ms, signal) => systemClock.sleep(ms, signal) };

// The defaults a user gets, but for the part size (see docs/performance.md): concurrency 1, retries, timeout, Parquet.
const source = parseSource(
  JSON.stringify({
    name: 'bench',
    schedule: 'rate(1 hour)',
    base_url: options.url,
    lake: { part_size_mb: options.partSizeMb },
    streams: [{ name: 'items', path: '/cursor', records: 'data', pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' } }],
  }),
  'bench.yaml',
);
const s3 = new S3Client({ endpoint: options.s3Endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
const storage = (prefix: string) => new S3LakeStorage({ bucket: options.bucket, prefix, client: s3 });
const secrets = new EnvSecretProvider({});
const api = async <T>(path: string) => (await (await fetch(`${options.url}${path}`)).json()) as T;

// The durable function's dependencies, as durableHandler.ts builds them from its environment.
const slicedStorage = storage('sliced');
const timings: SliceTiming[] = [];
const deps = {
  source,
  storage: slicedStorage,
  secrets,
  persistenceStore: new DynamoClaimStore({
    tableName: options.idempotencyTable,
    awsSdkV3Client: new DynamoDBClient({ endpoint: options.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }),
  }),
  logger: new Logger({ serviceName: 'apilake', logLevel: 'ERROR' }),
  metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-bench' }),
  deadlineMarginMs: DEFAULT_DEADLINE_MARGIN_MS,
  clock: frozenClock,
};
const handler = withDurableExecution(async (event: unknown, ctx: DurableContext) => durableIngest(event, timed(ctx, performance.now()), deps));

/** One uninterrupted landing, timed. */
async function landWhole(prefix: string, runId?: string): Promise<{ ms: number; cpuMs: number; lake: LakeStorage }> {
  const lake = storage(prefix);
  await api('/_reset');
  const client = await createSourceClient(source, secrets, { clock: frozenClock });
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outcome = await runWindowSlice({
    source,
    stream: source.streams[0]!,
    window: { start: new Date(WINDOW.start), end: new Date(WINDOW.end) },
    client,
    storage: lake,
    clock: frozenClock,
    ...(runId ? { runId } : {}),
  });
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  await client.close();
  if (outcome.kind !== 'done' || outcome.result.status !== 'committed')
    throw new Error(`the uninterrupted run did not commit: ${outcome.kind === 'done' ? (outcome.result.error?.message ?? outcome.result.status) : 'paused'}`);
  return { ms, cpuMs: (used.user + used.system) / 1000, lake };
}

// 1. Uninterrupted, before: the machine's load moves, so the sliced run is compared with the mean of one run before it and one after.
const before = await landWhole('before');

// 2. Sliced, through the durable function.
await LocalDurableTestRunner.setupTestEnvironment();
await api('/_reset');
const slicedCpu = process.cpuUsage();
const started = performance.now();
const execution = await new LocalDurableTestRunner<IngestSummary>({ handlerFunction: handler }).run({ payload: { source: 'bench', window: WINDOW } });
const slicedMs = performance.now() - started;
const slicedCpuUsed = process.cpuUsage(slicedCpu);
await LocalDurableTestRunner.teardownTestEnvironment();
const fetchesSliced = await api<PageFetches>('/_fetches');
const operations = execution.getOperations();
const slices = operations.filter((o) => / slice \d+$/.test(o.getName() ?? ''));
const sliced = await readBack(slicedStorage);

// 3. Uninterrupted, after, under the sliced run's run id and the same clock: its raw parts must be the same bytes.
const after = await landWhole('whole', sliced.runId);
const fetchesWhole = await api<PageFetches>('/_fetches');
const whole = await readBack(after.lake);
s3.destroy();

const run: DurableWindowRun = {
  node: process.version,
  status: execution.getStatus() ?? 'unknown',
  invocations: execution.getInvocations().length,
  slices: slices.length,
  durableOperations: operations.length,
  slicedMs,
  slicedCpuMs: (slicedCpuUsed.user + slicedCpuUsed.system) / 1000,
  wholeMs: [before.ms, after.ms],
  wholeCpuMs: [before.cpuMs, after.cpuMs],
  sliceRunMs: timings.map((t) => t.runMs),
  slicesRunMs: timings.reduce((n, t) => n + t.runMs, 0),
  checkpointMs: timings.reduce((n, t) => n + t.checkpointMs, 0),
  serialiseMs: timings.reduce((n, t) => n + t.serialiseMs, 0),
  largestCheckpointBytes: Math.max(0, ...timings.map((t) => t.resultBytes)),
  pagesPerSlice: slices.map((o) => {
    const step = o.getStepDetails()?.result as SliceStep | undefined;
    return step?.kind === 'paused' ? step.pages : -1;
  }),
  fetchesSliced,
  fetchesWhole,
  sliced,
  whole,
};
console.log(JSON.stringify(run));
process.exit(0);

/**
 * The durable context with Lambda's countdown in place of the runner's, and each slice step timed:
 * its function, then the SDK's checkpoint of its result. A replayed step (its function not run) is not timed.
 */
function timed(ctx: DurableContext, invokedAt: number): DurableContext {
  const lambdaContext: Context = { ...ctx.lambdaContext, getRemainingTimeInMillis: () => Math.max(0, options.invocationMs - (performance.now() - invokedAt)) };
  const step = (name: string, fn: (stepCtx: unknown) => Promise<unknown>, config?: unknown) => {
    if (!/ slice \d+$/.test(name)) return ctx.step(name, fn as never, config as never);
    let ran: { start: number; end: number } | undefined;
    const settled = ctx.step(
      name,
      (async (stepCtx: unknown) => {
        const start = performance.now();
        try {
          return await fn(stepCtx);
        } finally {
          ran = { start, end: performance.now() };
        }
      }) as never,
      config as never,
    );
    return settled.then((result: unknown) => {
      const resolved = performance.now();
      if (ran) {
        const t = performance.now();
        const json = JSON.stringify(result);
        timings.push({ runMs: ran.end - ran.start, checkpointMs: resolved - ran.end, serialiseMs: performance.now() - t, resultBytes: Buffer.byteLength(json), kind: (result as SliceStep).kind });
      }
      return result;
    });
  };
  return new Proxy(ctx, {
    get(target, property) {
      if (property === 'lambdaContext') return lambdaContext;
      if (property === 'step') return step;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The stream's commit, read back: every part's sha256, every record's bytes and id. */
async function readBack(lake: LakeStorage): Promise<Landed> {
  const snapshot = await snapshotStream(lake, 'bench', 'items', { audit: true });
  const manifest = snapshot.committed[0]?.manifest;
  if (!manifest) throw new Error(`no commit of the window under ${JSON.stringify(lake)}`);
  const partSha256: string[] = [];
  const records = createHash('sha256');
  let count = 0;
  let recordErrors = 0;
  let next = options.firstId;
  for (const part of manifest.parts) {
    const bytes = await lake.read(part.key);
    if (!bytes) throw new Error(`part ${part.key} is listed but missing`);
    partSha256.push(createHash('sha256').update(bytes).digest('hex'));
    for (const line of gunzipSync(bytes).toString('utf8').split('\n')) {
      if (line === '') continue;
      // The record's bytes as the API sent them: from the envelope's `"data":` to its closing brace.
      const data = line.slice(line.indexOf('"data":') + 7, -1);
      records.update(data).update('\n');
      const id = (JSON.parse(data) as { id: number }).id;
      if (id !== next) recordErrors++;
      next = id + 1;
      count++;
    }
  }
  // Ids out of order count above; records missing at the end or landed beyond the last count here.
  recordErrors += Math.abs(options.records - count);
  return {
    commits: snapshot.committed.length,
    orphanParts: snapshot.orphanParts?.length ?? 0,
    parts: manifest.parts.length,
    partSha256,
    rawPartsSha256: createHash('sha256').update(partSha256.join('\n')).digest('hex'),
    recordsSha256: records.digest('hex'),
    records: count,
    recordErrors,
    runId: manifest.run_id,
  };
}
