/**
 * Job streams against simulations of Salesforce Bulk API 2.0 (CSV results paged by Sforce-Locator)
 * and Shopify bulk operations (a JSON Lines file on a signed URL of another origin), through the
 * examples: one job per window, across a run that dies while the job runs or after it finished,
 * and across the slices of a window whose job outlasts an invocation (the deployed function pauses
 * while the job runs); records exactly once; no credential sent to the file origin; polling
 * bounded by its timeout and paced by every and Retry-After on an injected clock.
 */

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { runWindowSlice, type WindowSliceInput, type WindowSliceOutcome } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import type { HttpClient } from '../../functions/http/HttpClient.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../functions/sink/collectGarbage.js';
import { newJobRecord, windowJobRecords } from '../../functions/sink/jobRecord.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { tableSpec } from '../../functions/tables/tableSpec.js';
import { runLocalQuery } from '../../cli/query/runLocalQuery.js';
import { accountsEvery, startSalesforceBulkApi, type SalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { productsEvery, startShopifyBulkApi, type ShopifyBulkApi } from '../support/apis/shopifyBulkApi.js';
import { exampleSource } from '../support/exampleSource.js';
import { listFiles, readCommittedRecords, readManifests } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';
import { ageFiles } from '../support/ageFiles.js';
import { startTcpFaultProxy } from '../support/tcpFaultProxy.js';

const SF_TOKEN = '00Dtest!sf_token_0123456789';
const SHOP_TOKEN = 'shpat_test_token_0123456789';
const ENV = { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: SF_TOKEN }), APILAKE_SECRET_APILAKE_SHOPIFY: JSON.stringify({ api_key: SHOP_TOKEN }) };

let lake: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-jobs-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface LandOptions {
  readonly from: string;
  readonly to: string;
  readonly clock?: ManualClock;
  readonly storage?: LakeStorage;
  readonly signal?: AbortSignal;
}

async function land(source: SourceDefinition, options: LandOptions): Promise<WindowResult[]> {
  const clock = options.clock ?? new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
  return runSource({
    source,
    selection: { kind: 'range', from: new Date(options.from), to: new Date(options.to) },
    client,
    storage: options.storage ?? new FsLakeStorage(lake),
    clock,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}

/** `storage` whose commits fail: a window's files land, its manifest never does. */
function failingCommits(storage: FsLakeStorage): FsLakeStorage {
  const broken = Object.create(storage) as FsLakeStorage;
  broken.putIfAbsent = async (key, bytes, options) => {
    if (key.startsWith('manifests/')) throw new Error('disk gone');
    return storage.putIfAbsent(key, bytes, options);
  };
  return broken;
}

/** Every output a run could show, for secrets. */
function everyText(results: readonly WindowResult[]): string {
  return JSON.stringify(results.map((r) => ({ ...r, error: r.error?.message, warnings: r.warnings })));
}

describe('Salesforce Bulk API 2.0 (examples/salesforce_bulk.yaml)', () => {
  const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100); // about 39 a day over 3 days
  const source = (api: SalesforceBulkApi, patch: (stream: Record<string, unknown>) => void = () => undefined) =>
    exampleSource('salesforce_bulk.yaml', (doc) => {
      doc.base_url = api.url;
      const stream = doc.streams[0]!;
      const job = stream.job as { download: { params: Record<string, unknown> } };
      job.download.params = { maxRecords: 10 };
      patch(stream);
    });
  const start = async (extra: Partial<Parameters<typeof startSalesforceBulkApi>[0]> = {}) => {
    const api = await startSalesforceBulkApi({ accounts, token: SF_TOKEN, ...extra });
    closers.push(() => api.close());
    return api;
  };
  const range = { from: '2024-03-01T00:00:00Z', to: '2024-03-03T00:00:00Z' };
  const inRange = accounts.filter((a) => a.LastModifiedDate < '2024-03-03');

  it('creates one job a day, polls it every 15 s until JobComplete and lands its CSV sets once each', async () => {
    const api = await start();
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const results = await land(await source(api), { ...range, clock });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed']);
    expect(api.created).toHaveLength(2);
    expect(api.created[0]!.query).toContain('LastModifiedDate >= 2024-03-01T00:00:00Z AND LastModifiedDate < 2024-03-02T00:00:00Z');
    // Two polls InProgress, the third JobComplete: two waits of `every` per job, no real sleeping.
    expect(clock.sleeps).toEqual([15_000, 15_000, 15_000, 15_000]);
    const landed = await readCommittedRecords(lake);
    expect(landed.map((l) => l.data).sort((a, b) => ((a as { Id: string }).Id < (b as { Id: string }).Id ? -1 : 1))).toEqual(inRange);
    // Sets of 10 records, paged by Sforce-Locator until "null".
    const perDay = [0, 1].map((d) => inRange.filter((a) => a.LastModifiedDate.startsWith(`2024-03-0${d + 1}`)).length);
    expect(api.count('/services/data/v62.0/jobs/query/') - 2 * 3).toBe(perDay.reduce((n, c) => n + Math.ceil(c / 10), 0));
    expect(api.requests.filter((r) => r.url.searchParams.has('locator')).map((r) => r.url.searchParams.get('locator'))[0]).toBe('10');
    // The job records go with the commit.
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
    expect(everyText(results)).not.toContain(SF_TOKEN);
  });

  it('lands a job window through the slice a durable function runs, in one slice', async () => {
    const api = await start({ pollsUntilDone: 1 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const src = await source(api);
    const client = await createSourceClient(src, new EnvSecretProvider(ENV), { clock, random: () => 0 });
    const window = { start: new Date(range.from), end: new Date('2024-03-02T00:00:00Z') };
    // As the durable function asks: stop at the next part boundary as soon as one page landed.
    const outcome = await runWindowSlice({ source: src, stream: src.streams[0]!, window, client, storage: new FsLakeStorage(lake), clock, stopWhen: () => true });
    expect(outcome.kind).toBe('done');
    const result = outcome.kind === 'done' ? outcome.result : undefined;
    expect(result?.error?.message).toBeUndefined();
    expect(result?.status).toBe('committed');
    const day = inRange.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
    expect(result?.records).toBe(day.length);
    expect((await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id).sort()).toEqual(day.map((a) => a.Id).sort());
    expect(api.created).toHaveLength(1);
  });

  it("fills placeholders in the headers of create, poll and download: the window's, {job.key}, {job.id} and a field of the last poll", async () => {
    const api = await start({ pollsUntilDone: 1 });
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const src = await source(api, (stream) => {
      const job = stream.job as Record<string, { headers?: Record<string, string> }>;
      job.create!.headers = { 'X-Window': '{window.start_date}', 'X-Key': '{job.key}' };
      job.poll!.headers = { 'X-Job': '{job.id}', 'X-Key': '{job.key}' };
      job.download!.headers = { 'X-Records': '{job.numberRecordsProcessed}', 'X-Job': '{job.id}' };
    });
    expect((await land(src, oneDay)).map((r) => r.status)).toEqual(['committed']);
    const [create, ...rest] = api.requests;
    const id = api.created[0]!.id;
    expect(create!.headers['x-window']).toBe('2024-03-01');
    expect(create!.headers['x-key']).toMatch(/^apilake-[0-9a-f]{32}$/);
    const polls = rest.filter((r) => !r.url.pathname.endsWith('/results'));
    const downloads = rest.filter((r) => r.url.pathname.endsWith('/results'));
    expect(polls.map((r) => [r.headers['x-job'], r.headers['x-key']])).toEqual([
      [id, create!.headers['x-key']],
      [id, create!.headers['x-key']],
    ]);
    const count = String(accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01')).length);
    expect(downloads.length).toBeGreaterThan(1);
    for (const download of downloads) expect([download.headers['x-records'], download.headers['x-job']]).toEqual([count, id]);
  });

  it('fails the window naming the header, without quoting it, when a filled header value cannot be sent, creating nothing', async () => {
    const api = await start();
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const src = await source(api, (stream) => {
      stream.vars = { note: 'landed by apilake\nfor finance' };
      (stream.job as Record<string, Record<string, unknown>>).create!.headers = { 'X-Note': '{note}' };
    });
    const [result] = await land(src, oneDay);
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toContain('job create headers.X-Note: its value, placeholders filled, cannot be sent as an HTTP header: character 18 of 29 is a line break');
    expect(result!.error?.message).not.toContain('finance');
    expect(api.requests).toEqual([]);
  });

  it('leaves a second job at Salesforce, which takes no idempotency key, when the answer to the create is lost, and lands the records once from the job it heard of', async () => {
    const api = await start({ pollsUntilDone: 1 });
    const proxy = await startTcpFaultProxy(api.url);
    closers.push(() => proxy.close());
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const src = await exampleSource('salesforce_bulk.yaml', (doc) => {
      doc.base_url = proxy.endpoint;
      (doc.streams[0]!.job as { download: { params: Record<string, unknown> } }).download.params = { maxRecords: 10 };
    });
    proxy.dropResponses(1);
    expect((await land(src, oneDay)).map((r) => r.status)).toEqual(['committed']);
    expect(proxy.dropped()).toBe(1);
    expect(api.created).toHaveLength(2);
    const polled = new Set(api.requests.filter((r) => r.method === 'GET').map((r) => r.url.pathname.split('/')[6]));
    expect([...polled]).toEqual([api.created[1]!.id]);
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id);
    expect(ids.sort()).toEqual(
      accounts
        .filter((a) => a.LastModifiedDate.startsWith('2024-03-01'))
        .map((a) => a.Id)
        .sort(),
    );
  });

  it('converts the CSV strings to typed columns', async () => {
    const api = await start();
    const src = await source(api);
    await land(src, range);
    const { rows } = await runLocalQuery('SELECT count(*), typeof(min(annual_revenue)), typeof(min(last_modified)), count(annual_revenue), min(last_modified) FROM salesforce_bulk_accounts', lake, {
      specs: [tableSpec(src, src.streams[0]!)],
    });
    const empty = inRange.filter((a) => a.AnnualRevenue === '').length;
    expect(rows).toEqual([[String(inRange.length), 'DECIMAL(18,2)', 'TIMESTAMP', String(inRange.length - empty), '2024-03-01 00:00:00']]);
  });

  it('reuses the job of a run that died while it ran: one job per window, records once', async () => {
    const api = await start({ pollsUntilDone: 3 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    // The first run dies at its first wait: the job is created and recorded, not done.
    const stop = new AbortController();
    const dying = Object.create(clock) as ManualClock;
    dying.sleep = () => {
      stop.abort('killed');
      return Promise.reject(new Error('killed'));
    };
    const first = await land(await source(api), { from: range.from, to: '2024-03-02T00:00:00Z', clock: dying, signal: stop.signal });
    expect(first.map((r) => r.status)).toEqual(['failed']);
    expect(api.created).toHaveLength(1);
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toHaveLength(1);

    const second = await land(await source(api), { from: range.from, to: '2024-03-02T00:00:00Z', clock });
    expect(second.map((r) => r.status)).toEqual(['committed']);
    expect(api.created).toHaveLength(1);
    const landed = await readCommittedRecords(lake);
    expect(landed).toHaveLength(inRange.filter((a) => a.LastModifiedDate.startsWith('2024-03-01')).length);
    expect((await listFiles(lake)).filter((k) => k.startsWith('jobs/'))).toEqual([]);
  });

  it('gc keeps the job record of a live job and removes it once its window is committed, or past the horizon plus poll.timeout', async () => {
    const api = await start({ pollsUntilDone: 3 });
    const stop = new AbortController();
    const dying = Object.create(new ManualClock(Date.parse('2025-01-01T00:00:00Z'))) as ManualClock;
    dying.sleep = () => {
      stop.abort('killed');
      return Promise.reject(new Error('killed'));
    };
    await land(await source(api), { from: '2024-03-01T00:00:00Z', to: '2024-03-03T00:00:00Z', clock: dying, signal: stop.signal });
    const records = async () => (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(await records()).toHaveLength(1);
    const storage = new FsLakeStorage(lake);
    // A record left for a window that is committed since: its job's records are landed.
    const day2 = { source: 'salesforce_bulk', stream: 'accounts', window: { start: new Date('2024-03-02T00:00:00Z'), end: new Date('2024-03-03T00:00:00Z') } };
    await land(await source(api), { from: '2024-03-02T00:00:00Z', to: '2024-03-03T00:00:00Z' });
    await windowJobRecords(storage, day2).create(newJobRecord(day2, { commit: 1, job_id: '750old', created_at: '2025-01-01T00:00:00Z', run_id: 'r', timeout_ms: 7_200_000 }));
    expect(await records()).toHaveLength(2);

    const [report] = await collectGarbage(storage, 'salesforce_bulk', { streams: ['accounts'] });
    expect(report!.deletedJobRecords).toBe(1);
    expect(await records()).toEqual([expect.stringContaining('20240301T000000Z_20240302T000000Z.json')]);
    // 12 hours plus the job's 2 h timeout, and a minute: no attempt can still be polling it.
    await ageFiles(join(lake, 'jobs'), 14 * 3_600_000 - 60_000);
    await collectGarbage(storage, 'salesforce_bulk', { streams: ['accounts'] });
    expect(await records()).toHaveLength(1);
    await ageFiles(join(lake, 'jobs'), 2 * 60_000);
    expect((await collectGarbage(storage, 'salesforce_bulk', { streams: ['accounts'] }))[0]!.deletedJobRecords).toBe(1);
    expect(await records()).toEqual([]);
  });

  it('re-downloads, never re-creates, the finished job of a run that died before its commit', async () => {
    const api = await start();
    // The commit itself fails: the job finished and its results were downloaded.
    const broken = failingCommits(new FsLakeStorage(lake));
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    expect((await land(await source(api), { ...oneDay, storage: broken })).map((r) => r.status)).toEqual(['failed']);
    const downloads = api.requests.filter((r) => r.url.pathname.endsWith('/results')).length;
    expect(downloads).toBeGreaterThan(0);

    expect((await land(await source(api), oneDay)).map((r) => r.status)).toEqual(['committed']);
    expect(api.created).toHaveLength(1);
    expect(api.requests.filter((r) => r.url.pathname.endsWith('/results')).length).toBe(2 * downloads);
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toHaveLength(inRange.filter((a) => a.LastModifiedDate.startsWith('2024-03-01')).length);
  });

  it('abandons the record of a job an earlier attempt created that its API no longer knows, so the next attempt creates a new one', async () => {
    const api = await start();
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const day = { source: 'salesforce_bulk', stream: 'accounts', window: { start: new Date(oneDay.from), end: new Date(oneDay.to) } };
    // An attempt of a week ago recorded a job that Salesforce has deleted since.
    await windowJobRecords(new FsLakeStorage(lake), day).create(newJobRecord(day, { commit: 1, job_id: '750deleted', created_at: '2024-12-25T00:00:00Z', run_id: 'r-old', timeout_ms: 7_200_000 }));
    const [gone] = await land(await source(api), oneDay);
    expect(gone!.status).toBe('failed');
    expect(gone!.error?.message).toMatch(
      /^job 750deleted, recorded by an earlier attempt of the window, is polled and answers HTTP 404 \(the job is gone, or its results expired\); its record is marked abandoned, so the window's next attempt creates a new job/,
    );
    expect(api.created).toHaveLength(0);
    const [next] = await land(await source(api), oneDay);
    expect(next!.status).toBe('committed');
    expect(api.created).toHaveLength(1);
    expect(await readCommittedRecords(lake)).toHaveLength(inRange.filter((a) => a.LastModifiedDate.startsWith('2024-03-01')).length);
  });

  it('keeps the record of a job a concurrent attempt created meanwhile, though its API does not know that job yet', async () => {
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const day = { source: 'salesforce_bulk', stream: 'accounts', window: { start: new Date(oneDay.from), end: new Date(oneDay.to) } };
    const records = windowJobRecords(new FsLakeStorage(lake), day);
    // While this attempt creates its job, another one records the job it has just created, which Salesforce does not answer yet.
    const api = await start({
      hold: (request) =>
        request.method === 'POST'
          ? records.create(newJobRecord(day, { commit: 1, job_id: '750justcreated', created_at: '2025-01-01T00:00:00Z', run_id: 'r-concurrent', timeout_ms: 7_200_000 })).then(() => undefined)
          : undefined,
    });
    const [result] = await land(await source(api), oneDay);
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/^HTTP 404/);
    // The other attempt's record stands as it wrote it: that attempt goes on with its job.
    expect(await records.read()).toMatchObject({ job_id: '750justcreated', run_id: 'r-concurrent' });
    expect((await records.read())?.abandoned_at).toBeUndefined();
  });

  it("fails the window quoting the job's errorMessage, and creates a new job next time", async () => {
    const api = await start({ failWith: 'INVALID_FIELD: No such column AnnualRevenue' });
    const oneDay = { from: range.from, to: '2024-03-02T00:00:00Z' };
    const [result] = await land(await source(api), oneDay);
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/^job 750R00000000001AAA failed \(state == 'Failed' \|\| state == 'Aborted'\): INVALID_FIELD: No such column AnnualRevenue/);
    expect((await listFiles(lake)).filter((k) => k.startsWith('manifests/'))).toEqual([]);
    // The record stays, marked abandoned: the next job gets a new {job.key}.
    const [recordKey, ...others] = (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));
    expect(others).toEqual([]);
    expect(JSON.parse(await readFile(join(lake, recordKey!), 'utf8'))).toMatchObject({ job_id: '750R00000000001AAA', generation: 0, abandoned_at: expect.any(String) as unknown });
    await land(await source(api), oneDay);
    expect(api.created).toHaveLength(2);
  });

  it('fails the window once the job outlives poll.timeout, naming the job and its last state', async () => {
    const api = await start({ pollsUntilDone: 1_000 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const [result] = await land(await source(api, (s) => ((s.job as { poll: Record<string, unknown> }).poll.timeout = '2m')), { from: range.from, to: '2024-03-02T00:00:00Z', clock });
    expect(result!.status).toBe('failed');
    expect(result!.error?.message).toMatch(/^job 750R00000000001AAA is not done 2m \(poll.timeout\) after it was created, at 2025-01-01T00:00:00.000Z; its last state: .*"state":"InProgress"/);
    // 15 s apart until the 2 minutes are up: 9 polls, 8 waits.
    expect(clock.sleeps).toEqual(Array(8).fill(15_000));
    expect(api.count('/services/data/v62.0/jobs/query/')).toBe(9);
  });
});

describe('Shopify bulk operations (examples/shopify_bulk.yaml)', () => {
  const products = productsEvery('2024-05-01T00:00:00Z', 7 * 60_000, 30); // 8 or 9 an hour
  const range = { from: '2024-05-01T00:00:00Z', to: '2024-05-01T03:00:00Z' };
  const start = async (extra: Partial<Parameters<typeof startShopifyBulkApi>[0]> = {}) => {
    const shop = await startShopifyBulkApi({ products, token: SHOP_TOKEN, ...extra });
    closers.push(() => shop.close());
    return shop;
  };
  const source = (shop: ShopifyBulkApi, allowed: string[] = [shop.files.url]) =>
    exampleSource('shopify_bulk.yaml', (doc) => {
      doc.base_url = shop.api.url;
      doc.redirects = { allowed_origins: allowed };
    });
  const inRange = products.filter((p) => p.updatedAt < '2024-05-01T03:00:00');

  it('creates a new bulk operation once the file of the one an earlier attempt left has expired, and lands it once', async () => {
    const shop = await start({ pollsUntilDone: 0 });
    // The first attempt downloads the file, and its commit fails: the operation's record stays.
    const broken = failingCommits(new FsLakeStorage(lake));
    const oneHour = { from: range.from, to: '2024-05-01T01:00:00Z' };
    expect((await land(await source(shop), { ...oneHour, storage: broken })).map((r) => r.status)).toEqual(['failed']);
    // A week later its signed URL has expired, though the operation still polls COMPLETED with it.
    shop.expireFiles();
    const [expired] = await land(await source(shop), oneHour);
    expect(expired!.status).toBe('failed');
    expect(expired!.error?.message).toMatch(
      /^the results of job gid:\/\/shopify\/BulkOperation\/1, recorded by an earlier attempt of the window, are gone \(they expired, or the job did\): HTTP 400: <Error><Code>ExpiredToken<\/Code>.* \(file, page 1, GET .*Signature=\*\*\*\); its record is marked abandoned/,
    );
    expect(shop.created).toHaveLength(1);
    const [landed] = await land(await source(shop), oneHour);
    expect(landed!.status).toBe('committed');
    expect(shop.created).toHaveLength(2);
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { id: string }).id);
    expect(ids.sort()).toEqual(
      inRange
        .filter((p) => p.updatedAt < '2024-05-01T01:00:00')
        .map((p) => p.id)
        .sort(),
    );
  });

  it('leaves the record of a newer operation alone when an attempt that downloaded an older one finds its file expired', async () => {
    let whileDownloading: (() => Promise<void>) | undefined;
    // The file request of the attempt under test is answered only once the other attempts have run.
    const shop = await start({ pollsUntilDone: 0, hold: (request) => (request.url.pathname.endsWith('.jsonl') && whileDownloading ? whileDownloading() : undefined) });
    const storage = new FsLakeStorage(lake);
    const broken = Object.create(storage) as FsLakeStorage;
    broken.putIfAbsent = async (key, bytes, options) => {
      if (key.startsWith('manifests/')) throw new Error('disk gone');
      return storage.putIfAbsent(key, bytes, options);
    };
    const oneHour = { from: range.from, to: '2024-05-01T01:00:00Z' };
    const hour = { source: 'shopify_bulk', stream: 'products', window: { start: new Date(oneHour.from), end: new Date(oneHour.to) } };
    // Operation 1 is recorded, and its file expires.
    await land(await source(shop), { ...oneHour, storage: broken });
    shop.expireFiles();
    // While attempt A downloads operation 1's file, two other attempts run: one finds the file
    // expired and abandons operation 1, the next creates operation 2 (generation 1) and dies before its commit.
    whileDownloading = async () => {
      whileDownloading = undefined;
      expect((await land(await source(shop), { ...oneHour, storage: broken })).map((r) => r.status)).toEqual(['failed']);
      expect((await land(await source(shop), { ...oneHour, storage: broken })).map((r) => r.status)).toEqual(['failed']);
      expect(await windowJobRecords(storage, hour).read()).toMatchObject({ job_id: 'gid://shopify/BulkOperation/2', generation: 1 });
    };
    const [a] = await land(await source(shop), oneHour);
    expect(a!.error?.message).toMatch(/^the results of job gid:\/\/shopify\/BulkOperation\/1, recorded by an earlier attempt of the window, are gone/);
    // A's abandon of operation 1 does not overwrite the record of operation 2: the next attempt lands operation 2.
    const standing = await windowJobRecords(storage, hour).read();
    expect(standing).toMatchObject({ job_id: 'gid://shopify/BulkOperation/2', generation: 1 });
    expect(standing?.abandoned_at).toBeUndefined();
    const [landed] = await land(await source(shop), oneHour);
    expect(landed!.status).toBe('committed');
    expect(shop.created).toHaveLength(2);
  });

  it('runs one bulk operation an hour and lands its JSON Lines file from the signed URL, without the access token', async () => {
    const shop = await start({ retryAfterSeconds: 3 });
    const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
    const results = await land(await source(shop), { ...range, clock });
    expect(results.map((r) => r.status)).toEqual(['committed', 'committed', 'committed']);
    expect(shop.created).toHaveLength(3);
    // Retry-After (3 s) paces the polls instead of every (10 s).
    expect(clock.sleeps).toEqual(Array(6).fill(3_000));
    const landed = await readCommittedRecords(lake);
    expect(landed.map((l) => l.data).sort((a, b) => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1))).toEqual(inRange);
    expect(shop.files.requests).toHaveLength(3);
    for (const request of shop.files.requests) {
      expect(request.headers['x-shopify-access-token']).toBeUndefined();
      expect(JSON.stringify(request.headers)).not.toContain(SHOP_TOKEN);
    }
    expect(shop.api.requests.every((r) => r.headers['x-shopify-access-token'] === SHOP_TOKEN)).toBe(true);
    expect(everyText(results)).not.toContain(SHOP_TOKEN);
  });

  it('fails the window if the file is on an origin allowed_origins does not name, fetching nothing from it', async () => {
    const shop = await start();
    const [result] = await land(await source(shop, []), { from: range.from, to: '2024-05-01T01:00:00Z' });
    expect(result!.status).toBe('failed');
    // The job is named once, at the start.
    expect(result!.error?.message).toMatch(
      /^job gid:\/\/shopify\/BulkOperation\/\d+: job.download.urls "[^"]+" names a file on http:\/\/127\.0\.0\.1:\d+, which is neither base_url's origin nor listed in redirects.allowed_origins$/,
    );
    expect(shop.files.requests).toHaveLength(0);
  });

  it("fails the window quoting the operation's errorCode", async () => {
    const shop = await start({ failWith: 'ACCESS_DENIED' });
    const [result] = await land(await source(shop), { from: range.from, to: '2024-05-01T01:00:00Z' });
    expect(result!.error?.message).toMatch(/^job gid:\/\/shopify\/BulkOperation\/1 failed \(.*\): ACCESS_DENIED/);
  });
});

/** A Salesforce job window landed in slices, as the durable function lands it. */
const sliceAccounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
const day = sliceAccounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
const window = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };

interface Bed {
  readonly api: SalesforceBulkApi;
  readonly source: SourceDefinition;
  readonly client: HttpClient;
  readonly clock: ManualClock;
  readonly storage: FsLakeStorage;
  /** One slice of the window, as the durable function asks for it: stop at once, pause as `pauseJobWhen` says. */
  readonly slice: (pauseJobWhen: (nextPollInMs: number) => boolean, checkpoint?: WindowCheckpoint) => Promise<WindowSliceOutcome>;
}

async function bed(pollsUntilDone: number, timeout = '2h'): Promise<Bed> {
  const api = await startSalesforceBulkApi({ accounts: sliceAccounts, token: SF_TOKEN, pollsUntilDone });
  closers.push(() => api.close());
  const source = await exampleSource('salesforce_bulk.yaml', (doc) => {
    doc.base_url = api.url;
    const job = doc.streams[0]!.job as { poll: Record<string, unknown>; download: { params: Record<string, unknown> } };
    job.download.params = { maxRecords: 10 };
    job.poll.timeout = timeout;
  });
  const clock = new ManualClock(Date.parse('2025-01-01T00:00:00Z'));
  const client = await createSourceClient(source, new EnvSecretProvider(ENV), { clock, random: () => 0 });
  closers.push(() => client.close());
  const storage = new FsLakeStorage(lake);
  const slice = (pauseJobWhen: WindowSliceInput['pauseJobWhen'], checkpoint?: WindowCheckpoint) =>
    runWindowSlice({ source, stream: source.streams[0]!, window, client, storage, clock, stopWhen: () => true, pauseJobWhen, ...(checkpoint ? { checkpoint } : {}) });
  return { api, source, client, clock, storage, slice };
}

/** The checkpoint as the durable execution service gives it back: JSON. */
function stored(outcome: WindowSliceOutcome): WindowCheckpoint {
  if (outcome.kind !== 'paused') throw new Error(`expected a paused slice, got ${JSON.stringify(outcome.result.status)} (${outcome.result.error?.message ?? ''})`);
  return JSON.parse(JSON.stringify(outcome.checkpoint)) as WindowCheckpoint;
}

const polls = (api: SalesforceBulkApi) => api.requests.filter((r) => /\/jobs\/query\/[^/]+$/.test(r.url.pathname)).length;
const jobRecords = async () => (await listFiles(lake)).filter((k) => k.startsWith('jobs/'));

/*
 * A slice asked to pause while the job runs returns a checkpoint that polls the job again; each
 * later slice (from the checkpoint as JSON, as the durable execution service stores it) polls the
 * same job, and the one that finds it done downloads and commits.
 */
describe('a job stream landed in slices', () => {
  it('pauses while the job runs, polls the same job from each checkpoint, and commits once when it is done', async () => {
    const { api, clock, slice } = await bed(4);
    const checkpoints: WindowCheckpoint[] = [];
    let outcome = await slice(() => true);
    while (outcome.kind === 'paused') {
      const checkpoint = stored(outcome);
      checkpoints.push(checkpoint);
      // The durable wait: no compute, the clock moves on.
      clock.advance((checkpoint.next as { pollInMs: number }).pollInMs);
      outcome = await slice(() => true, checkpoint);
    }
    expect(outcome.kind === 'done' ? outcome.result.error?.message : 'paused').toBeUndefined();
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'committed', records: day.length } });
    // Four polls InProgress, one slice each; the fifth slice's poll finds the job done.
    expect(checkpoints).toHaveLength(4);
    for (const [i, checkpoint] of checkpoints.entries()) {
      expect(checkpoint).toMatchObject({ format: 1, runId: checkpoints[0]!.runId, startedAt: checkpoints[0]!.startedAt, commit: 1, slices: i + 1, next: { job: 'poll', pollInMs: 15_000 }, parts: [] });
      expect(JSON.stringify(checkpoint)).not.toContain(SF_TOKEN);
    }
    expect(api.created).toHaveLength(1);
    expect(polls(api)).toBe(5);
    // No wait inside a slice: every wait was a pause.
    expect(clock.sleeps).toEqual([]);
    const ids = (await readCommittedRecords(lake)).map((l) => (l.data as { Id: string }).Id);
    expect(ids.sort()).toEqual(day.map((a) => a.Id).sort());
    const [manifest, ...others] = await readManifests(lake);
    expect(others).toEqual([]);
    expect(manifest!.run_id).toBe(checkpoints[0]!.runId);
    // The job's requests of every slice are counted: a create, five polls, the result sets.
    expect(manifest!.requests).toBe(api.requests.length);
    expect(await jobRecords()).toEqual([]);
  });

  it('polls within the slice while the hook lets it, and pauses only when it says so', async () => {
    const { api, clock, slice } = await bed(5);
    let asked = 0;
    // Room for one wait in each slice, then the next poll would not fit.
    const everyOther = (waitMs: number) => {
      expect(waitMs).toBe(15_000);
      return ++asked % 2 === 0;
    };
    let outcome = await slice(everyOther);
    let slices = 1;
    while (outcome.kind === 'paused') {
      outcome = await slice(everyOther, stored(outcome));
      slices++;
    }
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'committed', records: day.length } });
    // Polls 1 and 2 in the first slice, 3 and 4 in the second, 5 and 6 (done) in the third.
    expect(slices).toBe(3);
    expect(clock.sleeps).toEqual([15_000, 15_000, 15_000]);
    expect(api.created).toHaveLength(1);
    expect(polls(api)).toBe(6);
  });

  it('counts poll.timeout from the job record across slices: the slice after it fails the window and abandons the job', async () => {
    const { api, clock, slice } = await bed(1_000, '1h');
    let outcome = await slice(() => true);
    for (let i = 0; i < 2; i++) {
      // Waits between slices longer than the polls asked for (a busy service, a retried step).
      clock.advance(40 * 60_000);
      outcome = await slice(() => true, stored(outcome));
    }
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'failed' } });
    const error = outcome.kind === 'done' ? outcome.result.error?.message : '';
    expect(error).toMatch(/^job 750R00000000001AAA is not done 1h \(poll.timeout\) after it was created, at 2025-01-01T00:00:00.000Z/);
    expect(api.created).toHaveLength(1);
    expect(polls(api)).toBe(3);
    expect(await jobRecords()).toHaveLength(1);
    expect(await readManifests(lake)).toEqual([]);
  });

  it('skips a resumed slice whose window another run committed meanwhile: no second job, no record left', async () => {
    const { api, source, client, clock, storage, slice } = await bed(2);
    const checkpoint = stored(await slice(() => true));
    expect(await jobRecords()).toHaveLength(1);
    // Another run of the window (a second delivery, a local run) polls the recorded job and commits it.
    const other = await runWindow({ source, stream: source.streams[0]!, window, client, storage, clock });
    expect(other).toMatchObject({ status: 'committed', records: day.length });
    const requests = api.requests.length;

    const resumed = await slice(() => true, checkpoint);
    expect(resumed).toMatchObject({ kind: 'done', result: { status: 'skipped', skipReason: 'concurrent_commit', runId: other.runId } });
    expect(api.created).toHaveLength(1);
    // It found the window committed before it asked the API anything.
    expect(api.requests.length).toBe(requests);
    expect(await jobRecords()).toEqual([]);
    expect(await readManifests(lake)).toHaveLength(1);
    expect((await readCommittedRecords(lake)).length).toBe(day.length);
  });

  it('fails a job checkpoint given to a stream without a job, touching nothing', async () => {
    const { source, client, clock, storage, slice } = await bed(2);
    const checkpoint = stored(await slice(() => true));
    const plain = { ...source.streams[0]!, job: undefined, path: '/x', records: '@' };
    const outcome = await runWindowSlice({ source, stream: plain, window, client, storage, clock, checkpoint });
    expect(outcome).toMatchObject({ kind: 'done', result: { status: 'failed' } });
    expect(outcome.kind === 'done' && outcome.result.error?.message).toMatch(/cannot be continued from this checkpoint: it polls a job, and the stream has none/);
  });
});
