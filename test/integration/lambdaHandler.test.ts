import { DeleteItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { compileSource } from '../../functions/config/compiledSource.js';
import { parseSource } from '../../functions/config/loadSources.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { sourceSchemaDigest } from '../../functions/config/sourceSchemaDigest.js';
import { ingest, WindowsFailedError, type IngestDeps } from '../../functions/ingest/ingest.js';
import { AwsSecretProvider } from '../../functions/secrets/AwsSecretProvider.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { getObject, listKeys, LOCAL_AWS, openUploads, readS3Records, startAwsServers, type AwsServers } from '../support/awsServers.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { testSource } from '../support/sources.js';
import { startJsonServer } from '../support/jsonServer.js';
import { startTestApi, type Item, type TestApi } from '../support/testApi.js';
import { createBudgetTable } from '../support/dynaliteServer.js';

const SECRET = 'sk-lambda-4f1e2d3c';
let aws: AwsServers;
let api: TestApi;
let bucket: string;
let table: string;
let n = 0;

beforeAll(async () => {
  aws = await startAwsServers();
  await aws.createSecret('apilake/t', { api_key: SECRET });
});
afterAll(() => aws.stop());

beforeEach(async () => {
  n++;
  bucket = `lake-${n}`;
  table = `idempotency-${n}`;
  await aws.createBucket(bucket);
  await aws.createIdempotencyTable(table);
  api = await startTestApi({ count: 250, apiKey: SECRET });
});
afterEach(async () => {
  await api.close();
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

const cursorStream = {
  path: '/cursor',
  params: { since: '{window.start}', until: '{window.end}', limit: 8 },
  records: 'data',
  pagination: { type: 'cursor', cursor: 'meta.next_cursor', param: 'cursor' },
};
const auth = { auth: { type: 'api_key', secret: 'apilake/t', in: 'header', name: 'X-API-Key' } };
const sourceFor = (extra: Record<string, unknown> = {}, stream: Record<string, unknown> = cursorStream) => testSource(api.url, stream, { ...auth, ...extra });

/** Captures everything written to stdout and stderr (Powertools logs and EMF metrics) during `body`. */
async function captureStdout<T>(body: () => Promise<T>): Promise<{ result: T | undefined; error: unknown; lines: Record<string, unknown>[]; text: string }> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, 'write').mockImplementation(capture), vi.spyOn(process.stderr, 'write').mockImplementation(capture)];
  let result: T | undefined;
  let error: unknown;
  try {
    result = await body();
  } catch (e) {
    error = e;
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const text = chunks.join('');
  const lines = text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { result, error, lines, text };
}

/** The deployed handler, loaded fresh with the environment a deployment would give it (`sourceJson`: what APILAKE_SOURCE_JSON holds instead). */
async function deployedHandler(source: SourceDefinition, sourceJson = compileSource(source, sourceSchemaDigest()), extraEnv: Record<string, string> = {}) {
  for (const [k, v] of Object.entries({
    ...extraEnv,
    ...aws.env,
    APILAKE_SOURCE_JSON: sourceJson,
    APILAKE_SOURCE_SCHEMA: sourceSchemaDigest(),
    APILAKE_BUCKET: bucket,
    APILAKE_IDEMPOTENCY_TABLE: table,
    POWERTOOLS_METRICS_NAMESPACE: 'apilake-test',
  }))
    vi.stubEnv(k, v);
  vi.resetModules();
  return (await import('../../functions/ingest/handler.js')).handler;
}

/** `ingest` with injected deps bound to the local servers, for cases that need a custom fetch or storage. */
function deps(source: SourceDefinition, overrides: Partial<IngestDeps> = {}): IngestDeps {
  return {
    source,
    storage: new S3LakeStorage({ bucket, client: new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true }) }),
    secrets: new AwsSecretProvider({ client: aws.secrets }),
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: new DynamoDBClient({ ...LOCAL_AWS, endpoint: aws.dynamoEndpoint }) }),
    logger: new Logger({ serviceName: 'apilake' }),
    metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
    deadlineMarginMs: 1_000,
    ...overrides,
  };
}

const TICK = { source: 'testapi', scheduledTime: '2024-01-01T01:00:07Z' };
const FIRST_HOUR = (id: number) => id <= 60;

describe('the deployed handler against S3 and Secrets Manager (moto) and DynamoDB (dynalite)', () => {
  it('lands the window before a schedule tick record-for-record, with a manifest', async () => {
    const handler = await deployedHandler(sourceFor());
    const { result, error } = await captureStdout(() => handler(TICK, lambdaContext()));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({
      source: 'testapi',
      trigger: 'scheduled',
      streams: [{ stream: 'items', status: 'committed', records: 60, window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' } }],
    });
    const records = await readS3Records(aws.s3, bucket);
    expect(records.map((r) => (r.data as Item).id)).toEqual(api.items.filter((i) => FIRST_HOUR(i.id)).map((i) => i.id));
    const [part] = new Set(records.map((r) => r.key as string));
    expect(part).toMatch(/^raw\/source=testapi\/stream=items\/dt=2024-01-01\/20240101T000000Z_20240101T010000Z_\d{8}T\d{6}Z-[0-9a-f]{12}_part-00000\.jsonl\.gz$/);
    const manifest: unknown = JSON.parse((await getObject(aws.s3, bucket, 'manifests/source=testapi/stream=items/dt=2024-01-01/20240101T000000Z_20240101T010000Z.000001.json')).toString());
    expect(manifest).toMatchObject({ format: 2, commit: 1, source: 'testapi', stream: 'items', totals: { records: 60, parts: 1 }, pages: 8, parts: [{ key: part }] });
    // Athena reads the window through its symlink file: exactly the committed part.
    const symlink = (await getObject(aws.s3, bucket, 'symlinks/raw/source=testapi/stream=items/dt=2024-01-01/20240101T000000Z_20240101T010000Z.txt')).toString();
    expect(symlink).toBe(`s3://${bucket}/${part}\n`);
  });

  it("draws its requests from the source's item in the budget table APILAKE_BUDGET_TABLE names", async () => {
    const budgetTable = `budget-${Date.now()}`;
    await createBudgetTable(aws.dynamo, budgetTable);
    const handler = await deployedHandler(sourceFor({ rate_limit: { requests_per_second: 50 } }), undefined, { APILAKE_BUDGET_TABLE: budgetTable });
    const before = Date.now();
    const { result, error } = await captureStdout(() => handler(TICK, lambdaContext()));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ streams: [{ status: 'committed', records: 60 }] });
    const item = await aws.dynamo.send(new GetItemCommand({ TableName: budgetTable, Key: { source: { S: 'testapi' } }, ConsistentRead: true }));
    // 8 pages, each at its own slot of the queue (1050 / 50 = 21 ms apart): the queue ends past them.
    expect(Number(item.Item?.tat?.N)).toBeGreaterThanOrEqual(before + 8 * 21);
    expect(Number(item.Item?.expires_at?.N)).toBeGreaterThan(Date.now() / 1000 + 86_000);
  });

  it('treats a second delivery of the same tick as a no-op', async () => {
    const handler = await deployedHandler(sourceFor());
    await captureStdout(() => handler(TICK, lambdaContext()));
    const requests = api.requests.length;
    const keys = await listKeys(aws.s3, bucket);
    const { result } = await captureStdout(() => handler(TICK, lambdaContext()));
    expect(result!.streams[0]).toMatchObject({ status: 'duplicate', records: 60 });
    expect(api.requests.length).toBe(requests);
    expect(await listKeys(aws.s3, bucket)).toEqual(keys);
  });

  it('runs two concurrent deliveries once: the second fails while the first is in flight, so Lambda retries it, and the retry is a duplicate', async () => {
    // The API holds every page until the second delivery has been turned away, so the first is in flight when it arrives.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const gatedFetch = (async (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      await gate;
      return fetch(input, init);
    }) as typeof fetch;
    const source = sourceFor();
    const { result } = await captureStdout(async () => {
      const deliveries = [ingest(TICK, lambdaContext(), deps(source, { fetch: gatedFetch })), ingest(TICK, lambdaContext(), deps(source, { fetch: gatedFetch }))];
      // Whichever fails first was turned away while the other waited at the gate.
      await Promise.any(
        deliveries.map((delivery) =>
          delivery.then(
            () => Promise.reject(new Error('a delivery landed with the gate shut')),
            () => undefined,
          ),
        ),
      );
      open();
      return Promise.allSettled(deliveries);
    });
    const landed = result!.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof ingest>>>;
    const turnedAway = result!.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(landed.value.streams[0]!.status).toBe('committed');
    // Never success for a window that is not committed: the holder may have crashed.
    expect(turnedAway.reason).toBeInstanceOf(WindowsFailedError);
    expect((turnedAway.reason as Error).message).toMatch(/another delivery holds this window .* not committed yet; failing so Lambda retries later/);
    expect(api.requests.length).toBe(8); // one run's pages, not two
    expect(await readS3Records(aws.s3, bucket)).toHaveLength(60);
    const retried = await captureStdout(() => ingest(TICK, lambdaContext(), deps(source)));
    expect(retried.result!.streams[0]).toMatchObject({ status: 'duplicate', records: 60 });
  });

  it('fails a retry that finds a crashed delivery in progress, then lands the window once the in-progress record expires', async () => {
    // The first delivery "crashes": its fetch never answers and ignores every abort, like a
    // process killed mid-window; its idempotency record stays in progress until it expires.
    let fetching!: () => void;
    // A page is fetched only once the delivery holds the idempotency record.
    const holdsRecord = new Promise<void>((resolve) => (fetching = resolve));
    const hang = (() => {
      fetching();
      return new Promise<Response>(() => undefined);
    }) as typeof fetch;
    const source = sourceFor();
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      void captureStdout(() => ingest(TICK, lambdaContext(30_000), deps(source, { fetch: hang, deadlineMarginMs: 10_000 })));
      await holdsRecord;
      const retry = await captureStdout(() => ingest(TICK, lambdaContext(), deps(source)));
      expect(retry.error).toBeInstanceOf(WindowsFailedError); // Lambda retries it, then the DLQ
      expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual([]);
      // Past the crashed delivery's in-progress expiry (its remaining time), a retry lands the window.
      vi.setSystemTime(Date.now() + 31_000);
      const later = await captureStdout(() => ingest(TICK, lambdaContext(), deps(source)));
      expect(later.result!.streams[0]).toMatchObject({ status: 'committed', records: 60 });
    } finally {
      vi.useRealTimers();
    }
    expect((await readS3Records(aws.s3, bucket)).map((r) => (r.data as Item).id)).toEqual(api.items.filter((i) => FIRST_HOUR(i.id)).map((i) => i.id));
  });

  it('logs one JSON line per window with source, stream, window, run_id and request id, and emits EMF metrics', async () => {
    const handler = await deployedHandler(sourceFor());
    const { lines } = await captureStdout(() => handler(TICK, lambdaContext(900_000, 'req-abc-123')));
    const windowLine = lines.find((l) => l.message === 'window committed')!;
    expect(windowLine).toMatchObject({
      level: 'INFO',
      service: 'apilake',
      source: 'testapi',
      stream: 'items',
      window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' },
      records: 60,
      pages: 8,
      function_request_id: 'req-abc-123',
    });
    expect(windowLine.run_id).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{12}$/);
    const emf = lines.find((l) => (l._aws as { CloudWatchMetrics?: unknown } | undefined)?.CloudWatchMetrics && l.Records !== undefined)!;
    expect(emf).toMatchObject({ source: 'testapi', stream: 'items', Records: 60, Pages: 8, WindowsCommitted: 1 });
    const names = (emf._aws as { CloudWatchMetrics: { Metrics: { Name: string }[]; Namespace: string }[] }).CloudWatchMetrics[0]!;
    expect(names.Namespace).toBe('apilake-test');
    expect(names.Metrics.map((m) => m.Name)).toEqual(expect.arrayContaining(['Records', 'Pages', 'BytesLanded', 'Retries', 'ThrottledResponses', 'WindowDuration']));
  });

  it('never logs the secret, even when the API echoes it in an error', async () => {
    api.fail({ kind: 'status', status: 400, body: `{"error":"key ${SECRET} rejected"}` });
    const handler = await deployedHandler(sourceFor());
    const { text, error } = await captureStdout(() => handler(TICK, lambdaContext()));
    expect((error as Error).name).toBe('WindowsFailedError'); // a fresh module graph: compare by name
    expect(text).toContain('key *** rejected');
    expect(text).not.toContain(SECRET);
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('rejects an invalid event with the field at fault, without throwing (no pointless retries)', async () => {
    const handler = await deployedHandler(sourceFor());
    const { result, error, lines } = await captureStdout(() => handler({ source: 'testapi', scheduledTime: 'yesterday', extra: 1 }, lambdaContext()));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ trigger: 'rejected', streams: [] });
    expect(result!.error).toMatch(/scheduledTime: must be an ISO 8601 date-time/);
    expect(result!.error).toMatch(/extra: unknown field/);
    expect(lines.find((l) => l.level === 'ERROR')).toMatchObject({ message: 'rejected invalid event; not retrying it' });
    expect(api.requests).toHaveLength(0);
  });

  it.each([
    [{ source: 'other', scheduledTime: '2024-01-01T01:00:00Z' }, /lands source "testapi", not "other"/],
    [{ source: 'testapi', window: { start: '2024-01-01T00:30:00Z', end: '2024-01-01T01:30:00Z' } }, /is not one 1h window of stream "items"/],
    [{ source: 'testapi', stream: 'nope', window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' } }, /has no stream "nope"/],
    [{ source: 'testapi', window: { start: '2024-01-01T01:00:00Z', end: '2024-01-01T00:00:00Z' } }, /must be before window.end/],
    ['not an object', /expected \{source, scheduledTime\}/],
  ])('rejects %j', async (event, message) => {
    const { result } = await captureStdout(() => ingest(event, lambdaContext(), deps(sourceFor())));
    expect(result!.error).toMatch(message);
  });

  it('lands nothing new for a backfill window event of a committed window, as a backfill in AWS repeats it', async () => {
    const handler = await deployedHandler(sourceFor());
    const event = { source: 'testapi', stream: 'items', window: { start: '2024-01-01T04:00:00Z', end: '2024-01-01T05:00:00Z' } };
    await captureStdout(() => handler(event, lambdaContext()));
    const manifests = await listKeys(aws.s3, bucket, 'manifests/');
    const parts = await listKeys(aws.s3, bucket, 'raw/');
    const records = (await readS3Records(aws.s3, bucket)).length;
    // Within a day the idempotency record answers; after it, the window's commit does.
    const again = await captureStdout(() => handler(event, lambdaContext()));
    expect(again.result!.streams[0]).toMatchObject({ status: 'duplicate' });
    const { Items: items = [] } = await aws.dynamo.send(new ScanCommand({ TableName: table }));
    for (const item of items) await aws.dynamo.send(new DeleteItemCommand({ TableName: table, Key: { id: item.id! } }));
    const later = await captureStdout(() => handler(event, lambdaContext()));
    expect(later.result!.streams[0]).toMatchObject({ status: 'skipped', skip_reason: 'already_committed' });
    expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual(manifests);
    expect(await listKeys(aws.s3, bucket, 'raw/')).toEqual(parts);
    expect(await readS3Records(aws.s3, bucket)).toHaveLength(records);
  });

  it('lands a backfill window event, and with force replaces it by a new commit, never duplicating', async () => {
    const handler = await deployedHandler(sourceFor());
    const event = { source: 'testapi', stream: 'items', window: { start: '2024-01-01T02:00:00Z', end: '2024-01-01T03:00:00Z' } };
    const first = await captureStdout(() => handler(event, lambdaContext()));
    expect(first.result!.streams[0]).toMatchObject({ status: 'committed', records: 60 });
    const before = await listKeys(aws.s3, bucket, 'raw/');
    const forced = await captureStdout(() => handler({ ...event, force: true }, lambdaContext()));
    expect(forced.result!.streams[0]).toMatchObject({ status: 'committed', records: 60 });
    const after = await listKeys(aws.s3, bucket, 'raw/');
    // The replaced commit's parts are gone, the new commit's are there: one copy of the window.
    expect(after).toHaveLength(1);
    expect(after).not.toEqual(before);
    expect(await listKeys(aws.s3, bucket, 'manifests/')).toEqual([
      'manifests/source=testapi/stream=items/dt=2024-01-01/20240101T020000Z_20240101T030000Z.000001.json',
      'manifests/source=testapi/stream=items/dt=2024-01-01/20240101T020000Z_20240101T030000Z.000002.json',
    ]);
    const current: unknown = JSON.parse((await getObject(aws.s3, bucket, 'manifests/source=testapi/stream=items/dt=2024-01-01/20240101T020000Z_20240101T030000Z.000002.json')).toString());
    expect(current).toMatchObject({ commit: 2, replaces: { commit: 1 }, parts: [{ key: after[0] }] });
    expect(await readS3Records(aws.s3, bucket)).toHaveLength(60);
  });

  it('aborts the multipart upload of a window that fails mid-part, leaves nothing visible, and the retry lands it once', async () => {
    const uploadIds: string[] = [];
    const client = new S3Client({ ...LOCAL_AWS, endpoint: aws.s3Endpoint, forcePathStyle: true });
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const output = await next(args);
        if (context.commandName === 'CreateMultipartUploadCommand') uploadIds.push((output.output as { UploadId: string }).UploadId);
        return output;
      },
      { step: 'initialize', name: 'captureUploadIds' },
    );
    const storage = new S3LakeStorage({ bucket, client, partSizeBytes: 5 * 1024 * 1024 });
    // The default timeout: a part's upload holds the body back, and on a busy machine that can take
    // longer than the test sources' 2 s; a body continued after a break would take a fault below.
    const source = sourceFor({ retry: { max_attempts: 2, base_delay_ms: 1 }, timeout_ms: 30_000 }, { path: '/blobs', params: { pages: 5 }, records: 'items', pagination: { type: 'page_number' } });
    // Pages 1-3 (~11 MiB of gzip) start a multipart upload; page 4 fails for good.
    api.fail({ kind: 'pass' }, { kind: 'pass' }, { kind: 'pass' }, { kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    const event = { source: 'testapi', window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' } };
    const failed = await captureStdout(() => ingest(event, lambdaContext(), deps(source, { storage })));
    expect(failed.error).toBeInstanceOf(WindowsFailedError);
    expect(failed.error).toHaveProperty('summary.streams.0.pages', 3);
    expect(uploadIds.length).toBeGreaterThan(0);
    expect(await listKeys(aws.s3, bucket)).toEqual([]);
    expect(await openUploads(aws.s3, bucket)).toEqual([]);
    for (const UploadId of uploadIds) {
      const orphan = client.send(new UploadPartCommand({ Bucket: bucket, Key: 'x', UploadId, PartNumber: 2, Body: 'x' }));
      await expect(orphan).rejects.toThrow(); // NoSuchUpload: the multipart upload was aborted
    }
    const retried = await captureStdout(() => ingest(event, lambdaContext(), deps(source, { storage })));
    expect(retried.result!.streams[0]).toMatchObject({ status: 'committed', records: 200, pages: 6 });
    const ids = (await readS3Records(aws.s3, bucket)).map((r) => (r.data as { id: number }).id);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
  }, 120_000);

  it('stops before its deadline and fails the window cleanly', async () => {
    // The second page never answers: the deadline, not the machine's speed, ends the window. It
    // comes 3 s in (30 s left, a 27 s margin); storage calls are cut only 25 s in.
    let pages = 0;
    const stallingFetch = ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => (++pages === 1 ? fetch(input, init) : untilAborted(init?.signal))) as typeof fetch;
    const { error } = await captureStdout(() => ingest(TICK, lambdaContext(30_000), deps(sourceFor(), { fetch: stallingFetch, deadlineMarginMs: 27_000 })));
    expect(error).toBeInstanceOf(WindowsFailedError);
    expect((error as Error).message).toMatch(/stopped before the window finished: less than 27000 ms left/);
    expect(await listKeys(aws.s3, bucket)).toEqual([]);
  });

  it('names a missing secret (never a value) when Secrets Manager has none', async () => {
    const source = sourceFor({ auth: { type: 'api_key', secret: 'apilake/absent', in: 'header', name: 'X-API-Key' } });
    const { error } = await captureStdout(() => ingest(TICK, lambdaContext(), deps(source)));
    expect((error as Error).message).toMatch(/secret "apilake\/absent" could not be read from Secrets Manager: it does not exist in this account and region/);
  });

  it('fails at cold start on a misconfigured function, naming every variable', async () => {
    vi.stubEnv('APILAKE_SOURCE_JSON', '');
    vi.stubEnv('APILAKE_BUCKET', '');
    vi.stubEnv('APILAKE_IDEMPOTENCY_TABLE', '');
    vi.resetModules();
    const { handler } = await import('../../functions/ingest/handler.js');
    await expect(handler(TICK, lambdaContext())).rejects.toThrow(/function misconfigured: APILAKE_SOURCE_JSON: .*APILAKE_BUCKET: .*APILAKE_IDEMPOTENCY_TABLE/);
  });

  describe('fails at cold start with a clear error, never a TypeError, when the definition is not the one synth compiled', () => {
    // A header value that must never be printed.
    const TOKEN = 'tenant-5b7e0c1d9a';
    const compiled = () => compileSource(sourceFor({ headers: { 'X-Tenant': TOKEN } }), sourceSchemaDigest());
    it.each([
      [
        'a plain definition as written (no defaults, no stamp)',
        () => JSON.stringify({ name: 'testapi', schedule: 'rate(1 hour)', base_url: api.url, headers: { 'X-Tenant': TOKEN }, streams: [{ name: 'items', path: '/cursor' }] }),
        /APILAKE_SOURCE_JSON: not a compiled source definition: no "compiled" stamp .*expected \{"compiled": \{\.\.\.\}, "source": \{\.\.\.\}\} as cdk synth writes it: deploy the function again/,
      ],
      [
        'a definition compiled by another version',
        () => compiled().replace(/"schema":"[0-9a-f]{16}"/, '"schema":"0123456789abcdef"'),
        /APILAKE_SOURCE_JSON: compiled by another apilake version \(schema 0123456789abcdef, this function's is [0-9a-f]{16}\): its fields and defaults may differ; deploy the function again/,
      ],
      [
        'a compiled definition edited by hand',
        () => compiled().replace('"timezone":"UTC"', '"timezone":"Europe/Paris"'),
        /APILAKE_SOURCE_JSON: "source" was edited after it was compiled \(its SHA-256 differs from the stamp's\)/,
      ],
      ['a compiled definition whose source was removed', () => compiled().replace(/,"source":.*\}$/, '}'), /APILAKE_SOURCE_JSON: "source" is missing or not an object/],
      ['a definition of another format', () => compiled().replace('"format":1', '"format":2'), /APILAKE_SOURCE_JSON: compiled in format 2, this function reads format 1/],
      ['no JSON at all', () => '{"compiled": ', /APILAKE_SOURCE_JSON: not JSON \(.*\); expected the definition cdk synth compiles in/],
    ])('%s', async (_what, sourceJson, message) => {
      const handler = await deployedHandler(sourceFor(), sourceJson());
      const error = await handler(TICK, lambdaContext()).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.name).toBe('ApilakeError');
      expect(error?.message).toMatch(/^function misconfigured: /);
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain(TOKEN);
      expect(await listKeys(aws.s3, bucket)).toEqual([]);
    });

    it('fails naming the schema variable when the function was deployed without it', async () => {
      await deployedHandler(sourceFor());
      vi.stubEnv('APILAKE_SOURCE_SCHEMA', '');
      vi.resetModules();
      const { handler } = await import('../../functions/ingest/handler.js');
      await expect(handler(TICK, lambdaContext())).rejects.toThrow(/function misconfigured: APILAKE_SOURCE_SCHEMA: required: the digest of the source schema \(set by the CDK app\)/);
    });
  });
});

describe('an invocation is one run', () => {
  it('pages a parent that does not depend on the window once for all the child windows of a tick, landing no table of it', async () => {
    const owners = await startJsonServer((request) => {
      if (request.headers['x-api-key'] !== SECRET) return { status: 401, body: { error: 'unauthorized' } };
      if (request.url.pathname === '/owners') return { body: { data: [{ login: 'ada' }, { login: 'bob' }] } };
      const items = /^\/(repos|gists)\/(\w+)$/.exec(request.url.pathname);
      if (items) return { body: { data: [{ id: `${items[1]}-${items[2]}-1` }] } };
      return { status: 404, body: {} };
    });
    try {
      const child = (name: string) => ({ name, path: `/${name}/{owner}`, records: 'data', parent: { stream: 'owners', key: 'login', as: 'owner' }, window: '1h' });
      const doc = {
        name: 'testapi',
        schedule: 'rate(1 hour)',
        base_url: owners.url,
        ...auth,
        streams: [{ name: 'owners', path: '/owners', records: 'data', land: false }, child('repos'), child('gists')],
      };
      const twoChildren = parseSource(JSON.stringify(doc), 'testapi.yaml');
      const { result, error } = await captureStdout(() => ingest(TICK, lambdaContext(), deps(twoChildren)));
      expect(error).toBeUndefined();
      expect(result!.streams.map((s) => [s.stream, s.status, s.records])).toEqual([
        ['repos', 'committed', 2],
        ['gists', 'committed', 2],
      ]);
      expect(owners.count('/owners')).toBe(1);
      expect((await listKeys(aws.s3, bucket)).filter((k) => k.includes('stream=owners'))).toEqual([]);
    } finally {
      await owners.close();
    }
  });

  it('pages the parent again in the next invocation of the same container, so a key added since reaches the children', async () => {
    const logins = ['ada', 'bob'];
    const owners = await startJsonServer((request) => {
      if (request.url.pathname === '/owners') return { body: { data: logins.map((login) => ({ login })) } };
      const repos = /^\/repos\/(\w+)$/.exec(request.url.pathname);
      if (repos) return { body: { data: [{ id: `repos-${repos[1]}-1` }] } };
      return { status: 404, body: {} };
    });
    try {
      const streams = [
        { name: 'owners', path: '/owners', records: 'data', land: false },
        { name: 'repos', path: '/repos/{owner}', records: 'data', parent: { stream: 'owners', key: 'login', as: 'owner' }, window: '1h' },
      ];
      const container = deps(parseSource(JSON.stringify({ name: 'testapi', schedule: 'rate(1 hour)', base_url: owners.url, ...auth, streams }), 'testapi.yaml'));
      const first = await captureStdout(() => ingest(TICK, lambdaContext(), container));
      logins.push('cy');
      const second = await captureStdout(() => ingest({ ...TICK, scheduledTime: '2024-01-01T02:00:07Z' }, lambdaContext(), container));
      expect([first.result!.streams[0]!.records, second.result!.streams[0]!.records]).toEqual([2, 3]);
      expect(owners.count('/owners')).toBe(2);
    } finally {
      await owners.close();
    }
  });
});

/** A response that never comes: rejects once `signal` aborts, as fetch does. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<Response> {
  if (!signal) return Promise.reject(new Error('the request has no abort signal'));
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
}
