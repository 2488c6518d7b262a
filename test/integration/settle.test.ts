import { createRequire } from 'node:module';
import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { renderStatus, settledStatus, statusProblems } from '../../cli/commands/status.js';
import { lakeStatus } from '../../cli/status/lakeStatus.js';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { ingest, type IngestSummary } from '../../functions/ingest/ingest.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { exampleSource } from '../support/exampleSource.js';
import { startGithubIssuesApi, type Issue } from '../support/githubIssuesApi.js';
import type { JsonServer } from '../support/jsonServer.js';
import { GITHUB_TOKEN_ENV } from '../support/landRange.js';
import { lambdaContext } from '../support/lambdaContext.js';
import { readCommittedRecords, readCurrentCommits } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const require = createRequire(import.meta.url);
const dynalite = require('dynalite') as (options: Record<string, number>) => Server;
const LOCAL = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } as const;

const issue = (number: number, updated: string): Issue => ({ id: 9000 + number, number, title: `issue ${number}`, state: 'open', created_at: '2024-01-01T00:00:00Z', updated_at: updated });
// The issue updated at 10:59 shows up 4 minutes later, at 11:03: after 10:00–11:00 has ended.
const ISSUES = [issue(1, '2024-03-01T09:10:00Z'), issue(2, '2024-03-01T09:40:00Z'), issue(3, '2024-03-01T10:20:00Z'), issue(4, '2024-03-01T10:59:00Z'), issue(5, '2024-03-01T11:30:00Z')];
const at = (iso: string) => Date.parse(iso);

let dynamoServer: Server;
let dynamo: DynamoDBClient;
let tables = 0;
beforeAll(async () => {
  dynamoServer = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamoServer.listen(0, '127.0.0.1', () => resolve()));
  dynamo = new DynamoDBClient({ ...LOCAL, endpoint: `http://127.0.0.1:${(dynamoServer.address() as AddressInfo).port}` });
});
afterAll(async () => {
  dynamo.destroy();
  await new Promise<void>((resolve) => dynamoServer.close(() => resolve()));
});

let lake: string;
let clock: ManualClock;
let api: JsonServer;
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-settle-'));
  clock = new ManualClock(at('2024-03-01T11:00:05Z'));
  api = await startGithubIssuesApi({ issues: ISSUES, now: () => clock.now(), lagMs: 4 * 60_000 });
});
afterEach(async () => {
  await api.close();
  vi.restoreAllMocks();
});

const source = (settle: string | undefined) =>
  exampleSource('github_issues.yaml', (doc) => {
    doc.base_url = api.url;
    if (settle === undefined) delete doc.streams[0]!.settle;
    else doc.streams[0]!.settle = settle;
  });

/** One scheduled tick of the deployed function's logic at `tick`, with the clock at the tick. */
async function tick(definition: SourceDefinition, time: string): Promise<IngestSummary> {
  clock.advance(at(time) - clock.now());
  const table = `idempotency-${++tables}`;
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  // Powertools logs and metrics go to stdout; keep the test output readable.
  vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    return await ingest({ source: definition.name, scheduledTime: time }, lambdaContext(), {
      source: definition,
      storage: new FsLakeStorage(lake),
      secrets: new EnvSecretProvider(GITHUB_TOKEN_ENV),
      persistenceStore: new DynamoDBPersistenceLayer({ tableName: table, awsSdkV3Client: dynamo }),
      logger: new Logger({ serviceName: 'apilake', logLevel: 'SILENT' }),
      metrics: new Metrics({ serviceName: 'apilake', namespace: 'apilake-test' }),
      deadlineMarginMs: 1_000,
      clock,
    });
  } finally {
    vi.restoreAllMocks();
  }
}

const landedNumbers = async () => (await readCommittedRecords(lake)).map((l) => [l._window_start, (l.data as Issue).number] as const);

describe('settle: late records', () => {
  it('loses a record the API shows late when windows land as soon as they end (no settle)', async () => {
    const definition = await source(undefined);
    expect((await tick(definition, '2024-03-01T11:00:05Z')).streams.map((s) => [s.window.start, s.status, s.records])).toEqual([['2024-03-01T10:00:00Z', 'committed', 1]]);
    await tick(definition, '2024-03-01T12:00:05Z');
    // Issue 4 (10:59, visible 11:03) is in no window: too late for 10:00–11:00, outside 11:00–12:00.
    expect(await landedNumbers()).toEqual([
      ['2024-03-01T10:00:00Z', 3],
      ['2024-03-01T11:00:00Z', 5],
    ]);
  });

  it('has ticks land the latest window that has settled, so the late record lands in its own window', async () => {
    const definition = await source('10m');
    // 11:00:05: 10:00–11:00 settles only at 11:10, so the tick lands 09:00–10:00.
    expect((await tick(definition, '2024-03-01T11:00:05Z')).streams.map((s) => [s.window.start, s.status, s.records])).toEqual([['2024-03-01T09:00:00Z', 'committed', 2]]);
    expect((await tick(definition, '2024-03-01T12:00:05Z')).streams.map((s) => [s.window.start, s.status, s.records])).toEqual([['2024-03-01T10:00:00Z', 'committed', 2]]);
    expect(await landedNumbers()).toEqual([
      ['2024-03-01T09:00:00Z', 1],
      ['2024-03-01T09:00:00Z', 2],
      ['2024-03-01T10:00:00Z', 3],
      ['2024-03-01T10:00:00Z', 4],
    ]);
  });

  it('has a tick offset by the settle time (cron at :10) land the window that just settled', async () => {
    const definition = await source('10m');
    expect((await tick(definition, '2024-03-01T11:10:03Z')).streams.map((s) => [s.window.start, s.records])).toEqual([['2024-03-01T10:00:00Z', 2]]);
  });

  it('never lets run or backfill land a window before it has settled, saying from when it can', async () => {
    const definition = await source('10m');
    clock.advance(at('2024-03-01T11:05:00Z') - clock.now());
    const client = await createSourceClient(definition, new EnvSecretProvider(GITHUB_TOKEN_ENV), { clock });
    const storage = new FsLakeStorage(lake);
    // `apilake run` without --from: the latest settled window.
    const latest = await runSource({ source: definition, selection: { kind: 'latest', at: new Date(clock.now()) }, client, storage, clock });
    expect(latest.map((r) => [r.window.start.toISOString(), r.status])).toEqual([['2024-03-01T09:00:00.000Z', 'committed']]);
    // `--from 10:00 --to 11:00` at 11:05: nothing has settled in that range.
    const range = await runSource({
      source: definition,
      selection: { kind: 'range', from: new Date('2024-03-01T10:00:00Z'), to: new Date('2024-03-01T11:00:00Z'), completeBy: new Date(clock.now()) },
      client,
      storage,
      clock,
    });
    expect(range).toEqual([]);
    // A window asked for explicitly (a Lambda backfill event) fails with the reason.
    const forced = await runWindow({
      source: definition,
      stream: definition.streams[0]!,
      window: { start: new Date('2024-03-01T10:00:00Z'), end: new Date('2024-03-01T11:00:00Z') },
      client,
      storage,
      clock,
    });
    expect(forced.status).toBe('failed');
    expect(forced.error!.message).toBe(
      'window [2024-03-01T10:00:00Z, 2024-03-01T11:00:00Z) (1h) has not settled yet: stream "issues" lands a window only 10m (settle) after it ends, from 2024-03-01T11:10:00Z',
    );
    expect((await readCurrentCommits(lake)).map((m) => m.window.start)).toEqual(['2024-03-01T09:00:00Z']);
  });

  it('has status count a window that has not settled as not behind', async () => {
    const definition = await source('10m');
    const storage = new FsLakeStorage(lake);
    const client = await createSourceClient(definition, new EnvSecretProvider(GITHUB_TOKEN_ENV), { clock });
    clock.advance(at('2024-03-01T11:05:00Z') - clock.now());
    await runSource({
      source: definition,
      selection: {
        kind: 'windows',
        windows: [
          { start: new Date('2024-03-01T08:00:00Z'), end: new Date('2024-03-01T09:00:00Z') },
          { start: new Date('2024-03-01T09:00:00Z'), end: new Date('2024-03-01T10:00:00Z') },
        ],
      },
      client,
      storage,
      clock,
    });

    // 11:05: 10:00–11:00 has ended but not settled; it is not behind (plain lakeStatus says it is).
    expect((await lakeStatus(storage, definition, { now: new Date('2024-03-01T11:05:00Z') }))[0]!.behind?.windows).toBe(1);
    const settled = await settledStatus(storage, definition, undefined, new Date('2024-03-01T11:05:00Z'));
    expect(settled[0]!.behind).toBeUndefined();
    expect(statusProblems(definition.name, settled)).toEqual([]);
    // 13:05: 10:00–11:00 and 11:00–12:00 have settled and are missing: two behind, a problem.
    const later = await settledStatus(storage, definition, undefined, new Date('2024-03-01T13:05:00Z'));
    expect(later[0]!.behind).toEqual({ start: '2024-03-01T10:00:00Z', end: '2024-03-01T12:00:00Z', windows: 2 });
    expect(statusProblems(definition.name, later)).toHaveLength(1);
    expect(renderStatus(definition.name, storage.location, later)).toContain('issues: 2 windows behind');
  });
});
