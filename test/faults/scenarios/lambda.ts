/**
 * The Lambda handler's engine (`ingest`) against S3 (moto) behind the fault proxy and DynamoDB
 * (dynalite): concurrent tick + forced events, a crash retried before the in-progress expiry,
 * seeded S3 faults on every write (500, 503 SlowDown, dropped connections, responses lost after
 * S3 applied the write) including multipart uploads, and a stalled S3 call against the deadline.
 */

import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { parseSource } from '../../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../../functions/config/sourceSchema.js';
import { ingest, type IngestDeps, type IngestSummary } from '../../../functions/ingest/ingest.js';
import { AwsSecretProvider } from '../../../functions/secrets/AwsSecretProvider.js';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { S3LakeStorage } from '../../../functions/sink/S3LakeStorage.js';
import type { TimeWindow } from '../../../functions/window/TimeWindow.js';
import { LOCAL_AWS, openUploads, startAwsServers, type AwsServers } from '../../support/awsServers.js';
import { lambdaContext } from '../../support/lambdaContext.js';
import { startS3FaultProxy, type S3Call, type S3Fault, type S3FaultProxy } from '../../support/s3FaultProxy.js';
import type { Item } from '../../support/testApi.js';
import { startBlobApi } from '../blobApi.js';
import { auditLake, sampleReaders, type Expectation } from '../lakeAudit.js';
import { expectation, hours, record, report, SECRET, sleep, sourceYaml, startFaultApi, type ScenarioReport } from '../harness.js';
import { between } from '../../support/seededRandom.js';

let capturing = 0;
let sink: string[] = [];
const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);

/**
 * Captures stdout/stderr (Powertools logs and metrics) of `body` into `logs`, for the secret
 * check, and keeps the suite's table clean. Re-entrant: concurrent deliveries share one capture.
 */
async function quietly<T>(logs: string[], body: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  if (capturing++ === 0) {
    sink = logs;
    const capture = (chunk: string | Uint8Array) => (sink.push(String(chunk)), true);
    process.stdout.write = capture;
    process.stderr.write = capture;
  }
  try {
    return { value: await body() };
  } catch (error) {
    logs.push(String((error as Error)?.message));
    return { error };
  } finally {
    if (--capturing === 0) {
      process.stdout.write = realStdout;
      process.stderr.write = realStderr;
    }
  }
}

interface Rig {
  readonly aws: AwsServers;
  readonly proxy: S3FaultProxy;
  bucket: string;
  table: string;
  storage: S3LakeStorage;
  /** The same bucket straight from S3, not through the fault proxy: an audit sees the lake as it is, not the faults meant for the function. */
  observer: S3LakeStorage;
  deps(source: SourceDefinition, extra?: Partial<IngestDeps>): IngestDeps;
}

let counter = 0;
async function freshLake(rig: Rig): Promise<void> {
  counter++;
  rig.bucket = `faults-${counter}`;
  rig.table = `faults-idempotency-${counter}`;
  await rig.aws.createBucket(rig.bucket);
  await rig.aws.createIdempotencyTable(rig.table);
  rig.storage = new S3LakeStorage({ bucket: rig.bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: rig.proxy.endpoint, forcePathStyle: true }), partSizeBytes: 5 * 1024 * 1024 });
  rig.observer = new S3LakeStorage({ bucket: rig.bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: rig.aws.s3Endpoint, forcePathStyle: true }) });
}

async function startRig(): Promise<Rig> {
  const aws = await startAwsServers();
  await aws.createSecret('apilake/faults', { api_key: SECRET });
  const proxy = await startS3FaultProxy(aws.s3Endpoint);
  proxy.denyMissingKeys(true);
  const rig: Rig = {
    aws,
    proxy,
    bucket: '',
    table: '',
    storage: undefined as unknown as S3LakeStorage,
    observer: undefined as unknown as S3LakeStorage,
    deps: (source, extra = {}) => ({
      source,
      storage: rig.storage,
      secrets: new AwsSecretProvider({ client: aws.secrets }),
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: rig.table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
      logger: new Logger({ serviceName: 'apilake' }),
      metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-faults' }),
      deadlineMarginMs: 2_000,
      ...extra,
    }),
  };
  await freshLake(rig);
  return rig;
}

const windowEvent = (window: TimeWindow, force = false) => ({
  source: 'faults',
  stream: 'items',
  window: { start: window.start.toISOString(), end: window.end.toISOString() },
  ...(force ? { force: true } : {}),
});
const tickAfter = (window: TimeWindow) => ({ source: 'faults', scheduledTime: new Date(window.end.getTime() + 7_000).toISOString() });

/** Delivers an event the way Lambda does: on failure it is retried (twice), then it would go to the DLQ. */
async function deliver(
  rig: Rig,
  source: SourceDefinition,
  event: unknown,
  logs: string[],
  attempts = 3,
  afterFailure?: () => Promise<void>,
): Promise<{ summaries: IngestSummary[]; failures: number }> {
  const summaries: IngestSummary[] = [];
  let failures = 0;
  for (let attempt = 0; attempt < attempts; attempt++) {
    const { value, error } = await quietly(logs, () => ingest(event, lambdaContext(60_000), rig.deps(source)));
    if (value) {
      summaries.push(value);
      break;
    }
    failures++;
    await afterFailure?.();
    if (!(error instanceof Error) || error.name !== 'WindowsFailedError') throw error;
  }
  return { summaries, failures };
}

export async function lambdaScenarios(random: () => number, faultRounds: number): Promise<ScenarioReport[]> {
  const rig = await startRig();
  const api = await startFaultApi(10);
  const source = parseSource(sourceYaml(api.url), 'faults.yaml');
  const rows: ScenarioReport[] = [];
  try {
    // 1. A tick and a forced event of the same windows at once, repeated.
    {
      const row = report('Lambda: tick + force events at once');
      const windows = hours(0, 4);
      const logs: string[] = [];
      const sampler = sampleReaders(rig.storage, expectation(api, windows));
      for (const window of windows) {
        const tick = deliver(rig, source, tickAfter(window), logs);
        await sleep(between(random, 0, 150));
        const forced = deliver(rig, source, windowEvent(window, true), logs);
        const [t, f] = await Promise.all([tick, forced]);
        row.trials++;
        row.faults += t.failures + f.failures;
        if (t.summaries.length + f.summaries.length < 2) row.violations.push(`window ${window.start.toISOString()}: a delivery still failed after Lambda's retries`);
      }
      const sampled = await sampler.stop();
      row.samples += sampled.samples;
      row.violations.push(...sampled.violations);
      rig.proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000); // hours later at S3: every file so far is past the horizon
      await collectGarbage(rig.storage, 'faults', { streams: ['items'] });
      const audit = await auditLake(rig.observer, expectation(api, windows, { mustCommit: true, afterGc: true, outputs: logs }));
      record(row, audit, 'tick + force');
      row.committed += audit.committed;
      row.asExpected += audit.committed;
      rows.push(row);
    }

    // 2. A crash (the function killed mid-window) retried before its in-progress record expires.
    {
      const row = report('Lambda: crash, retry before in-progress expiry');
      await freshLake(rig);
      const [window] = hours(3, 4);
      const logs: string[] = [];
      const hang = (() => new Promise<Response>(() => undefined)) as typeof fetch;
      // The crashed delivery: its fetch never answers and ignores every abort, as if killed.
      // It never returns, so it logs nowhere (a capture around it would never end).
      void ingest(tickAfter(window!), lambdaContext(4_000), rig.deps(source, { fetch: hang, deadlineMarginMs: 3_500, logger: new Logger({ serviceName: 'apilake', logLevel: 'SILENT' }) })).catch(
        () => undefined,
      );
      await sleep(500);
      const early = await quietly(logs, () => ingest(tickAfter(window!), lambdaContext(60_000), rig.deps(source)));
      row.trials++;
      row.faults++;
      if (!early.error)
        row.violations.push(`a retry during the crashed delivery's in-progress period returned success (${JSON.stringify(early.value?.streams[0]?.status)}) without the window being committed`);
      const midway = await auditLake(rig.observer, expectation(api, [window!]));
      if (midway.committed !== 0) row.violations.push('the window was committed although no delivery finished');
      await sleep(4_000); // Lambda's next retry comes after the crashed invocation's timeout
      const later = await deliver(rig, source, tickAfter(window!), logs);
      if (later.summaries[0]?.streams[0]?.status !== 'committed') row.violations.push(`the retry after expiry did not land the window: ${JSON.stringify(later.summaries[0]?.streams[0])}`);
      const audit = await auditLake(rig.observer, expectation(api, [window!], { mustCommit: true, outputs: logs }));
      record(row, audit, 'crash + retry');
      row.committed += audit.committed;
      row.asExpected += audit.committed + 1;
      rows.push(row);
    }

    // 3. Seeded S3 faults on every kind of call, small windows and a multipart window.
    {
      const row = report(`Lambda: seeded S3 faults (${faultRounds} rounds)`);
      const blobs = await startBlobApi({ hours: 1, apiKey: SECRET });
      const blobSource = parseSource(sourceYaml(blobs.url).replace('limit: 5', 'limit: 10'), 'blobs.yaml');
      const kinds: S3Fault[] = [{ kind: 'status', status: 500 }, { kind: 'status', status: 503 }, { kind: 'drop-before' }, { kind: 'drop-after' }];
      const targets: [string, (c: S3Call) => boolean][] = [
        ['part PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('raw/')],
        ['Parquet PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('curated/')],
        ['UploadPart', (c) => c.operation === 'UploadPart'],
        ['CreateMultipartUpload', (c) => c.operation === 'CreateMultipartUpload'],
        ['CompleteMultipartUpload', (c) => c.operation === 'CompleteMultipartUpload'],
        ['manifest PUT (the commit)', (c) => c.operation === 'PutObject' && c.key.startsWith('manifests/') && c.key.endsWith('.json')],
        ['symlink PUT', (c) => c.operation === 'PutObject' && c.key.startsWith('symlinks/')],
        ['ListObjectsV2', (c) => c.operation === 'ListObjectsV2'],
        ['GetObject', (c) => c.operation === 'GetObject'],
        ['DeleteObjects', (c) => c.operation === 'DeleteObjects'],
      ];
      try {
        for (let round = 0; round < faultRounds; round++) {
          await freshLake(rig);
          const logs: string[] = [];
          const injected: string[] = [];
          for (let n = between(random, 2, 5); n > 0; n--) {
            const [label, match] = targets[between(random, 0, targets.length - 1)]!;
            const fault = kinds[between(random, 0, kinds.length - 1)]!;
            rig.proxy.inject({ match, fault, times: between(random, 1, 8) }); // past the SDK's 3 tries some windows fail: those must stay invisible
            injected.push(`${fault.kind === 'status' ? fault.status : fault.kind} on ${label}`);
          }
          const before = rig.proxy.faultsInjected();
          const multipart = round % 3 === 0;
          const windows = multipart ? hours(0, 1) : hours(0, 3);
          const src = multipart ? blobSource : source;
          const exp: Expectation = multipart
            ? {
                source: 'faults',
                stream: 'items',
                windows,
                expected: (w) => blobs.items.filter((i) => Date.parse(i.ts) >= w.start.getTime() && Date.parse(i.ts) < w.end.getTime()) as unknown as Item[],
                secrets: [SECRET],
                maxAttempts: 3,
              }
            : expectation(api, windows);
          for (const window of windows) {
            const context = `round ${round} (${injected.join(', ')}), window ${window.start.toISOString()}`;
            // After a failed invocation, before Lambda's retry: the window is committed exactly, or invisible.
            const afterFailure = async () => record(row, await auditLake(rig.observer, { ...exp, windows: [window], outputs: logs }), `${context}, after a failed invocation`);
            const delivered = await deliver(rig, src, windowEvent(window, random() < 0.3), logs, 6, afterFailure);
            row.trials++;
            const status = delivered.summaries[0]?.streams[0]?.status;
            // Every failed invocation was audited below like a success: its window committed exactly, or invisible.
            row.failed += delivered.failures;
            if (status === 'committed' || status === 'skipped' || status === 'duplicate') row.committed++;
            // After every invocation, whatever it reported: committed exactly, or invisible.
            record(row, await auditLake(rig.observer, { ...exp, windows: [window], outputs: logs }), context);
          }
          row.faults += rig.proxy.faultsInjected() - before;
          rig.proxy.clear();
          // Redrive what still failed, then gc: every window exactly once, nothing left over.
          for (const window of windows) await deliver(rig, src, windowEvent(window), logs);
          rig.proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000); // hours later at S3: every file so far is past the horizon
          await collectGarbage(rig.storage, 'faults', { streams: ['items'] });
          const audit = await auditLake(rig.observer, { ...exp, mustCommit: true, afterGc: true, outputs: logs });
          record(row, audit, `round ${round} (${injected.join(', ')}), after redrive and gc`);
          row.asExpected += audit.committed;
          if ((await openUploads(rig.aws.s3, rig.bucket)).length > 0) row.violations.push(`round ${round}: multipart uploads left open after gc`);
        }
      } finally {
        await blobs.close();
      }
      rows.push(row);
    }

    // 4. An S3 call that stalls: the invocation must end before its deadline, reporting failure.
    {
      const row = report('Lambda: stalled S3 call vs the deadline');
      for (const [label, match] of [
        ['part upload', (c: S3Call) => c.operation === 'PutObject' && c.key.startsWith('raw/')],
        ['commit PUT', (c: S3Call) => c.operation === 'PutObject' && c.key.startsWith('manifests/') && c.key.endsWith('.json')],
        ['listing', (c: S3Call) => c.operation === 'ListObjectsV2'],
      ] as const) {
        await freshLake(rig);
        const [window] = hours(2, 3);
        const logs: string[] = [];
        rig.proxy.inject({ match, fault: { kind: 'stall' }, times: 1_000 });
        const started = Date.now();
        const remaining = 8_000;
        const stalled = await quietly(logs, () => ingest(windowEvent(window!), lambdaContext(remaining), rig.deps(source, { deadlineMarginMs: 4_000 })));
        const took = Date.now() - started;
        row.trials++;
        row.faults++;
        if (!stalled.error) row.violations.push(`${label}: a stalled S3 call did not fail the invocation`);
        if (took >= remaining) row.violations.push(`${label}: the invocation took ${took} ms, past its ${remaining} ms deadline (Lambda would have killed it)`);
        rig.proxy.clear();
        record(row, await auditLake(rig.observer, expectation(api, [window!], { outputs: logs })), `${label} stalled`);
        await deliver(rig, source, windowEvent(window!), logs);
        rig.proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000); // hours later at S3: every file so far is past the horizon
        await collectGarbage(rig.storage, 'faults', { streams: ['items'] });
        const audit = await auditLake(rig.observer, expectation(api, [window!], { mustCommit: true, afterGc: true, outputs: logs }));
        record(row, audit, `${label} stalled, then retried`);
        row.failed++;
        row.committed += audit.committed;
        row.asExpected += audit.committed + 1;
      }
      rows.push(row);
    }
  } finally {
    await api.close();
    await rig.proxy.close();
    await rig.aws.stop();
  }
  return rows;
}
