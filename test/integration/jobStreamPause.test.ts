/**
 * A job stream's window landed in slices, as the durable function lands it, against the Salesforce
 * Bulk API 2.0 simulation: a slice asked to pause while the job runs returns a checkpoint that polls
 * the job again, each later slice (from the checkpoint as JSON, as the durable execution service
 * stores it) polls the same job, and the one that finds it done downloads and commits. One job,
 * records once, no job record left, `poll.timeout` counted from the job's creation across slices,
 * and a slice resumed after another run committed the window lands nothing and creates no job.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindow } from '../../functions/engine/runWindow.js';
import { runWindowSlice, type WindowSliceInput, type WindowSliceOutcome } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import type { HttpClient } from '../../functions/http/HttpClient.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { accountsEvery, startSalesforceBulkApi, type SalesforceBulkApi } from '../support/apis/salesforceBulkApi.js';
import { exampleSource } from '../support/exampleSource.js';
import { listFiles, readCommittedRecords, readManifests } from '../support/lakeReader.js';
import { ManualClock } from '../support/manualClock.js';

const TOKEN = '00Dtest!sf_token_0123456789';
const ENV = { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: TOKEN }) };
const accounts = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
const day = accounts.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
const window = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };

let lake: string;
const closers: (() => Promise<void>)[] = [];
beforeEach(async () => {
  lake = await mkdtemp(join(tmpdir(), 'apilake-job-pause-'));
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

interface Bed {
  readonly api: SalesforceBulkApi;
  readonly source: SourceDefinition;
  readonly client: HttpClient;
  readonly clock: ManualClock;
  readonly storage: FsLakeStorage;
  /** One slice of the window, as the durable function asks for it: stop at once, pause as `pauseJobWhen` says. */
  slice(pauseJobWhen: (nextPollInMs: number) => boolean, checkpoint?: WindowCheckpoint): Promise<WindowSliceOutcome>;
}

async function bed(pollsUntilDone: number, timeout = '2h'): Promise<Bed> {
  const api = await startSalesforceBulkApi({ accounts, token: TOKEN, pollsUntilDone });
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
      expect(JSON.stringify(checkpoint)).not.toContain(TOKEN);
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
