/**
 * A job stream (a bulk export: create the job, poll it, download its results) through the
 * deployed durable function, on the durable execution SDK's local runner with moto's S3 and
 * dynalite's idempotency table: its job record stays beside the window until the commit, as
 * `apilake run` keeps it, and while the job runs the execution waits between invocations, polling
 * the same job from each, instead of sleeping through one invocation's deadline; once it is done, a
 * download longer than an invocation goes on in the next from where it stopped. The job's polls
 * sleep on a manual clock inside an invocation; the waits between invocations are real seconds
 * (see durableWindow.node22.test.ts on `skipTime`).
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import type { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { accountsEvery, startSalesforceBulkApi, type SalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { durableDeps, durableRunner, useDurableTestbed, type DurableRunnerOptions } from '../support/durableTestbed.js';
import type { DurableIngestDeps, SliceStep } from '../../functions/ingest/durableIngest.js';
import { exampleSource, type SourceDocument } from '../support/exampleSource.js';
import { ManualClock } from '../support/manualClock.js';

const TOKEN = '00Dtest!sf_token_0123456789';
const bed = useDurableTestbed();
let api: SalesforceBulkApi;
const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
beforeAll(async () => {
  api = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone: 1 });
});
afterAll(async () => api.close());

it('lands a Salesforce Bulk API 2.0 window as the durable function: one job, its records once, nothing left over', async () => {
  const source = await exampleSource('salesforce_bulk.yaml', (doc) => {
    doc.base_url = api.url;
  });
  const { deps, storage } = await durableDeps(bed, source, {
    secrets: new EnvSecretProvider({ APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: TOKEN }) }),
    // The job's polls wait on this clock: no real sleeping.
    clock: new ManualClock(Date.parse('2025-01-01T00:00:00Z')),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'ERROR' }),
  });
  const window = { start: '2024-03-01T00:00:00Z', end: '2024-03-02T00:00:00Z' };
  const execution = await durableRunner(deps).run({ payload: { source: 'salesforce_bulk', window } });
  expect(execution.getStatus()).toBe('SUCCEEDED');
  // The job was not done at its first poll: a wait of poll.every (15 s) costs less suspended than in a running invocation.
  expect(waits(execution)).toEqual([15]);
  const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
  const [stream] = execution.getResult()!.streams;
  expect(stream).toMatchObject({ stream: 'accounts', status: 'committed', records: day.length });
  expect(api.created).toHaveLength(1);
  const snapshot = await snapshotStream(storage, 'salesforce_bulk', 'accounts', { audit: true });
  expect(snapshot.committed).toHaveLength(1);
  expect(snapshot.committed[0]!.manifest.totals.records).toBe(day.length);
  expect(snapshot.orphanParts).toEqual([]);
  expect(JSON.stringify(execution.getResult())).not.toContain(TOKEN);
}, 120_000);

it('waits for a job that needs more polls than fit in one invocation across several, polling the same job, and lands it once', async () => {
  const slow = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone: 7 });
  try {
    const { deps, storage } = await salesforceDeps(slow.url, (doc) => {
      // Polls 2 s apart cost less in a running invocation than paused: they stay in it while they fit.
      (doc.streams[0]!.job as { poll: Record<string, unknown> }).poll.every = '2s';
    });
    // Each poll spends 35 s of a 120-second invocation (its slice keeps a reserve of 24 s): three polls fit in one.
    const polls = () => slow.requests.filter((r) => /\/jobs\/query\/[^/]+$/.test(r.url.pathname)).length;
    const deadline = () => {
      const from = polls();
      return () => 120_000 - (polls() - from) * 35_000;
    };
    const { execution, slices, paused } = await landDay(deps, deadline);
    // Polls 1–3, 4–6, then 7 and 8 (done) and the download: three slices, two waits of poll.every between them.
    expect(slices).toHaveLength(3);
    expect(paused.map((step) => step.checkpoint.next)).toEqual([
      { job: 'poll', pollInMs: 2_000 },
      { job: 'poll', pollInMs: 2_000 },
    ]);
    expect(waits(execution)).toEqual([2, 2]);
    expect(slow.created).toHaveLength(1);
    expect(polls()).toBe(8);
    await expectLandedOnce(storage, slices);
  } finally {
    await slow.close();
  }
}, 120_000);

it("downloads a job's results across invocations, a part at a time, from the same job, and lands them once", async () => {
  const done = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone: 0 });
  try {
    const { deps, storage } = await salesforceDeps(done.url, (doc) => {
      // Sets of 4 records, parts of about three sets.
      (doc.streams[0]!.job as { download: { params: Record<string, unknown> } }).download.params = { maxRecords: 4 };
      doc.lake = { part_size_mb: 0.004 };
    });
    // Each set of results spends 40 s of a 120-second invocation (its slice keeps a reserve of 24 s):
    // after three the slice stops at its next part boundary. The last 10 s never run out.
    const results = () => done.requests.filter((r) => r.url.pathname.endsWith('/results')).length;
    const deadline = () => {
      const from = results();
      return () => Math.max(10_000, 120_000 - (results() - from) * 40_000);
    };
    const { execution, slices, paused } = await landDay(deps, deadline);
    expect(paused.length).toBeGreaterThanOrEqual(3);
    expect(slices).toHaveLength(paused.length + 1);
    const jobId = done.created[0]!.id;
    for (const step of paused) expect(step.checkpoint.next).toMatchObject({ job: 'download', jobId, paging: { kind: 'sequential' } });
    // A second between the slices of a download, as between any slices.
    expect(waits(execution)).toEqual(paused.map(() => 1));
    // One job, polled once by the first slice and once more by each slice after it.
    expect(done.created).toHaveLength(1);
    expect(done.requests.filter((r) => /\/jobs\/query\/[^/]+$/.test(r.url.pathname))).toHaveLength(slices.length);
    const manifest = await expectLandedOnce(storage, slices);
    expect(manifest.parts.length).toBeGreaterThanOrEqual(paused.length + 1);
  } finally {
    await done.close();
  }
}, 120_000);

it('fails the window at once, saying what to change, when no page of the results downloads within an invocation', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // The first set of results is not answered before the invocation's deadline.
  const stuck = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone: 0, hold: (r) => (r.url.pathname.endsWith('/results') ? released : undefined) });
  try {
    const { deps, storage } = await salesforceDeps(stuck.url, () => undefined);
    // 3 s left of each invocation, 2 s of them the deadline margin: the slice has one second.
    const execution = await durableRunner(deps, { deadline: () => () => 3_000 }).run({
      payload: { source: 'salesforce_bulk', window: { start: '2024-03-01T00:00:00Z', end: '2024-03-02T00:00:00Z' } },
    });
    expect(execution.getStatus()).toBe('FAILED');
    const message = execution.getError().errorMessage ?? '';
    expect(message).toMatch(/the window's job landed no page of its results in the 1\.0 s its slice had before the invocation's deadline/);
    expect(message).toMatch(/each page of results must download within one: raise the function's timeout, or ask for smaller pages of results/);
    // Not tried again from the same checkpoint to the same end.
    expect(stuck.requests.filter((r) => r.url.pathname.endsWith('/results'))).toHaveLength(1);
    expect((await snapshotStream(storage, 'salesforce_bulk', 'accounts')).committed).toEqual([]);
  } finally {
    release();
    await stuck.close();
  }
}, 120_000);

/** The example source against `url`, `patch` applied, and an execution's dependencies for it: the job's polls wait on a manual clock. */
async function salesforceDeps(url: string, patch: (doc: SourceDocument) => void) {
  const source = await exampleSource('salesforce_bulk.yaml', (doc) => {
    doc.base_url = url;
    patch(doc);
  });
  return durableDeps(bed, source, {
    secrets: new EnvSecretProvider({ APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: TOKEN }) }),
    clock: new ManualClock(Date.parse('2025-01-01T00:00:00Z')),
    logger: new Logger({ serviceName: 'apilake', logLevel: 'ERROR' }),
  });
}

/** Lands the day through the durable function, each invocation's deadline as `deadline` says; checks it committed, and returns the execution, its slices and the paused ones' results. */
async function landDay(deps: DurableIngestDeps, deadline: DurableRunnerOptions['deadline']) {
  const window = { start: '2024-03-01T00:00:00Z', end: '2024-03-02T00:00:00Z' };
  const execution = await durableRunner(deps, { ...(deadline ? { deadline } : {}) }).run({ payload: { source: 'salesforce_bulk', window } });
  expect(execution.getStatus()).toBe('SUCCEEDED');
  const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
  expect(execution.getResult()!.streams[0]).toMatchObject({ stream: 'accounts', status: 'committed', records: day.length });
  const slices = execution.getOperations().filter((o) => / slice \d+$/.test(o.getName() ?? ''));
  const paused = slices.map((o) => o.getStepDetails()?.result as SliceStep).filter((step) => step.kind === 'paused');
  return { execution, slices, paused };
}

/** Checks the window committed once with the day's accounts, leaving no orphan and no job record, and no token in the slices' stored results; returns its manifest. */
async function expectLandedOnce(storage: S3LakeStorage, slices: { getStepDetails(): { result?: unknown } | undefined }[]) {
  const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
  const snapshot = await snapshotStream(storage, 'salesforce_bulk', 'accounts', { audit: true });
  expect(snapshot.committed).toHaveLength(1);
  expect(snapshot.committed[0]!.manifest.totals.records).toBe(day.length);
  expect(snapshot.orphanParts).toEqual([]);
  expect(await storage.list('jobs/')).toEqual([]);
  expect(JSON.stringify(slices.map((o) => o.getStepDetails()?.result ?? null))).not.toContain(TOKEN);
  return snapshot.committed[0]!.manifest;
}

/** The seconds of each wait between slices, in order. */
function waits(execution: { getOperations(): { getName(): string | undefined; getWaitDetails(): { waitSeconds?: number } | undefined }[] }): (number | undefined)[] {
  return execution
    .getOperations()
    .filter((o) => / continue \d+$/.test(o.getName() ?? ''))
    .map((o) => o.getWaitDetails()?.waitSeconds);
}
