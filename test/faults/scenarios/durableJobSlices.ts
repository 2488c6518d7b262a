/**
 * Job streams landed in durable slices, under kills. A Salesforce Bulk API 2.0 window (create a
 * query job, poll it, download its result sets; the simulation in test/support/apis) is landed as
 * the durable Lambda's steps land it: each slice pauses on every poll that finds the job not done,
 * and the next slice polls the same job from the checkpoint. In each trial the window's first
 * slices run here, then one invocation runs as a real process (test/faults/sliceInvocation.ts) and
 * is SIGKILLed at a seeded point: with the create held at the API (before the API applied it, or
 * applied and its answer not yet sent), after the create answered and before the job record was
 * written, with a poll held, with a result set's download held (in the slice that found the job
 * done, or in a later one that took the download up from a checkpoint within it), with every part
 * stored before the commit, or during the commit. The window is then continued from the last checkpoint returned,
 * slice after slice, to the end. Audited: nothing visible before the commit, the window committed
 * exactly once with every account exactly once, no job record left after the commit, no orphan
 * after gc, and the jobs created at the API:
 *
 * exactly one per window, plus one when the killed invocation's create was applied by the API and
 * no job record stood after the kill. The example source sends no idempotency key, and the
 * simulation would honour none: the next slice, finding no record, creates a second job, and the
 * first is never polled again. With the record written, every later slice polls the recorded job.
 */

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { WindowSliceOutcome } from '../../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../../functions/engine/WindowCheckpoint.js';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { ageFiles } from '../../support/ageFiles.js';
import { accountsEvery, startSalesforceBulkApi } from '../../support/apis/salesforceBulkApi.js';
import type { SeenRequest } from '../../support/jsonServer.js';
import { between, seededRandom } from '../../support/seededRandom.js';
import type { Item } from '../../support/testApi.js';
import { waitUntil } from '../../support/waitUntil.js';
import { auditLake, sampleReaders, type Expectation } from '../lakeAudit.js';
import { record, report, type ScenarioReport } from '../harness.js';
import type { SliceJob } from '../sliceInvocation.js';
import { buildDriver, checkpointFiles, COMMIT_WRITE, invoke, killAtLine, slicedSource, sliceInProcess, type Invocation, type Invoked } from './durableSlices.js';

const TOKEN = '00Dfault!sf_token_5c0e7a91d2b4';
const ENV = { APILAKE_SECRET_APILAKE_SALESFORCE: JSON.stringify({ token: TOKEN }), NO_COLOR: '1' };
const WINDOW = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };
const ACCOUNTS = accountsEvery('2024-03-01T00:00:00Z', 37 * 60_000, 100);
const DAY = ACCOUNTS.filter((a) => a.LastModifiedDate.startsWith('2024-03-01'));
/** Accounts in a result set: the day's 39 come in 8 sets, each a page and a part of its own. */
const SET_SIZE = 5;
const SETS = Math.ceil(DAY.length / SET_SIZE);
/** Polls the API answers InProgress: the window's first two slices pause, the third finds the job done. */
const POLLS_UNTIL_DONE = 2;
const COMMIT_KEY = '^manifests/.*\\.json$';

const KILL_POINTS = ['create held', 'create answered', 'mid-poll', 'mid-download', 'later download', 'before commit', 'in commit'] as const;
type KillPoint = (typeof KILL_POINTS)[number];

const isCreate = (r: SeenRequest) => r.method === 'POST' && r.url.pathname.endsWith('/jobs/query');
const isPoll = (r: SeenRequest) => r.method === 'GET' && /\/jobs\/query\/[^/]+$/.test(r.url.pathname);
const isResults = (r: SeenRequest) => r.method === 'GET' && r.url.pathname.endsWith('/results');

/** The example source against the simulation: result sets of SET_SIZE, parts tiny so each set is one. */
async function sourceText(apiUrl: string): Promise<string> {
  const doc = parse(await readFile(new URL('../../../examples/salesforce_bulk.yaml', import.meta.url), 'utf8')) as Record<string, unknown> & { streams: Record<string, unknown>[] };
  doc.base_url = apiUrl;
  doc.lake = { part_size_mb: 0.001 };
  doc.retry = { max_attempts: 3, base_delay_ms: 5, max_delay_ms: 1000, circuit_breaker_failures: 1000 };
  (doc.streams[0]!.job as { download: { params: Record<string, unknown> } }).download.params = { maxRecords: SET_SIZE };
  return JSON.stringify(doc);
}

export async function durableJobSlices(random: () => number, trials: number): Promise<ScenarioReport> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-faults-job-slices-'));
  // A request held at the API: before the route (the API never applied it) or after it (applied, the answer not yet sent).
  let holding: { match: (r: SeenRequest) => boolean; skip: number; stage: 'request' | 'answer'; held?: SeenRequest } | undefined;
  const releases: (() => void)[] = [];
  const holdAt = (stage: 'request' | 'answer') => (request: SeenRequest) => {
    if (!holding || holding.stage !== stage || holding.held || !holding.match(request)) return undefined;
    if (holding.skip-- > 0) return undefined;
    holding.held = request;
    // Held until the suite ends: the killed client's request must not reach the API afterwards.
    return new Promise<void>((resolve) => releases.push(resolve));
  };
  const api = await startSalesforceBulkApi({ accounts: ACCOUNTS, token: TOKEN, pollsUntilDone: POLLS_UNTIL_DONE, holdAnswer: holdAt('answer'), hold: holdAt('request') });
  const driver = await buildDriver();
  const { source, stream, clock, runId, job } = await slicedSource(join(dir, 'salesforce_bulk.yaml'), await sourceText(api.url), WINDOW);
  const base = { ...job, pauseJobs: true };
  const exp = (extra: Partial<Expectation> = {}): Expectation => ({
    source: source.name,
    stream: stream.name,
    windows: [WINDOW],
    expected: () => DAY as unknown as readonly Item[],
    idField: 'Id',
    secrets: [TOKEN],
    maxAttempts: 3,
    ...extra,
  });
  const checkpointFile = checkpointFiles(dir);

  /**
   * A slice here, as the durable function's step runs it: pausing on every poll that finds the job
   * not done, and, with `stopAfterPages`, stopping at the first part boundary after that many pages.
   */
  const slice = async (storage: FsLakeStorage, checkpoint?: WindowCheckpoint, stopAfterPages?: number): Promise<WindowSliceOutcome> => {
    let pages = 0;
    const stop = stopAfterPages === undefined ? {} : { onPage: () => pages++, stopWhen: () => pages >= stopAfterPages };
    return sliceInProcess({ source, stream, window: WINDOW, storage, clock, runId, pauseJobWhen: () => true, ...stop }, ENV, checkpoint);
  };

  /** Kills the invocation once the API holds the request it waits for. */
  const strikeWhenHeld = async (run: Invocation) => {
    let finished = false;
    void run.done.then(() => (finished = true));
    await waitUntil(() => finished || holding?.held !== undefined, { what: 'the API holds the request', withinMs: 120_000 });
    run.kill();
  };

  const killAt = async (at: KillPoint, job: SliceJob, draw: () => number, landedSets: number): Promise<{ run: Invoked; how: string }> => {
    switch (at) {
      case 'create held': {
        const stage = draw() < 0.5 ? 'request' : 'answer';
        holding = { match: isCreate, skip: 0, stage };
        const run = invoke(driver.file, job, ENV);
        await strikeWhenHeld(run);
        return { run: await run.done, how: stage === 'request' ? 'its create held before the API applied it' : 'its create applied by the API, the answer held' };
      }
      case 'create answered': {
        return { run: await killAtLine(driver.file, { ...job, holdBeforeWrite: '^jobs/' }, ENV, /^held$/), how: 'with the create answered, before the job record was written' };
      }
      case 'mid-poll': {
        holding = { match: isPoll, skip: 0, stage: draw() < 0.5 ? 'request' : 'answer' };
        const run = invoke(driver.file, job, ENV);
        await strikeWhenHeld(run);
        return { run: await run.done, how: `with its poll held (${holding.stage === 'request' ? 'not yet applied' : 'applied, answer held'})` };
      }
      case 'mid-download':
      case 'later download': {
        // The sets the slices before landed are not asked for again, but the one that would have begun their next part.
        const nth = between(draw, 1, SETS - landedSets);
        holding = { match: isResults, skip: nth - 1, stage: 'request' };
        const run = invoke(driver.file, job, ENV);
        await strikeWhenHeld(run);
        return { run: await run.done, how: `downloading result set ${nth} of the ${SETS - landedSets} left` };
      }
      case 'before commit': {
        return { run: await killAtLine(driver.file, { ...job, holdBeforeWrite: COMMIT_KEY }, ENV, /^held$/), how: 'with every part stored, before the commit' };
      }
      case 'in commit': {
        if (draw() < 0.5) {
          return { run: await killAtLine(driver.file, { ...job, hold: 'committed' }, ENV, /^held$/), how: 'with the commit written, before returning' };
        }
        // The kill races the commit's write and what follows it.
        return { run: await killAtLine(driver.file, job, ENV, COMMIT_WRITE), how: 'as the commit began' };
      }
    }
  };

  /**
   * Slices run here before the killed invocation: none when it must create the job, two when its
   * poll must find it done, and one to three more, each landing a result set, when it takes up the download.
   */
  const prefixFor = (at: KillPoint, draw: () => number) =>
    at === 'create held' || at === 'create answered' ? 0 : at === 'mid-poll' ? between(draw, 0, POLLS_UNTIL_DONE) : at === 'later download' ? POLLS_UNTIL_DONE + between(draw, 1, 3) : POLLS_UNTIL_DONE;

  const counts = new Map<KillPoint, number>();
  let secondJobs = 0;
  const row = report(`durable job slices: SIGKILL, continue (${trials} trials)`);
  const trial = async (n: number, draw: () => number) => {
    const at = KILL_POINTS[n % KILL_POINTS.length]!;
    const lakeDir = join(dir, `lake-${n}`);
    const storage = new FsLakeStorage(lakeDir);
    const createdBefore = api.created.length;
    const outputs: string[] = [];
    // The slices before the kill.
    let checkpoint: WindowCheckpoint | undefined;
    const prefix = prefixFor(at, draw);
    for (let i = 0; i < prefix; i++) {
      // Past the polls, each slice stops at the part boundary after one result set (a set is a part).
      const outcome = await slice(storage, checkpoint, i < POLLS_UNTIL_DONE ? undefined : 1);
      if (outcome.kind !== 'paused')
        return void row.violations.push(`trial ${n}: slice ${i + 1} ended ${outcome.result.status} (${outcome.result.error?.message ?? ''}) instead of pausing on its poll or within the download`);
      checkpoint = outcome.checkpoint;
    }
    const landedSets = checkpoint?.counters.pages ?? 0;
    if (at === 'later download' && (checkpoint?.next as { job?: string } | undefined)?.job !== 'download')
      return void row.violations.push(`trial ${n}: the slices before the kill left ${JSON.stringify(checkpoint?.next ?? null)}, not a position within the download`);
    const sampler = sampleReaders(storage, exp());
    const createdBeforeKill = api.created.length;
    const { run: killed, how } = await killAt(at, { ...base, lake: lakeDir, ...(await checkpointFile(checkpoint)) }, draw, landedSets);
    holding = undefined;
    const where = `trial ${n} (after ${prefix} slice${prefix === 1 ? '' : 's'}, killed ${how})`;
    outputs.push(killed.lines.join('\n'), killed.stderr);
    row.trials++;
    if (killed.killed) {
      row.faults++;
      counts.set(at, (counts.get(at) ?? 0) + 1);
    } else if (killed.code !== 0) row.violations.push(`${where}: the invocation failed before it could be killed: ${killed.stderr.slice(0, 300)}`);
    const beganCommit = killed.lines.some((l) => COMMIT_WRITE.test(l));
    const afterKill = await auditLake(storage, exp({ outputs, secrets: [] }));
    record(row, afterKill, `${where}, after the kill`);
    if (!beganCommit && afterKill.committed > 0) row.violations.push(`${where}: the window is visible, yet no invocation wrote its commit`);
    // A job the killed invocation created that no record names: the next slice cannot know of it.
    const createdByKilled = api.created.length - createdBeforeKill;
    const recordStands = (await storage.list('jobs/')).length > 0;
    const lostJobs = createdByKilled > 0 && !recordStands ? createdByKilled : 0;

    // Continue from the last checkpoint returned, slice after slice, to the end.
    let from = killed.checkpoint ?? checkpoint;
    let result = killed.result;
    for (let slices = 0; !result && slices < 10; slices++) {
      const outcome = await slice(storage, from);
      if (outcome.kind === 'paused') from = outcome.checkpoint;
      else
        result = {
          status: outcome.result.status,
          ...(outcome.result.skipReason ? { skipReason: outcome.result.skipReason } : {}),
          ...(outcome.result.error ? { error: outcome.result.error.message } : {}),
        };
    }
    outputs.push(JSON.stringify(result ?? null));
    const found = result?.skipReason === 'concurrent_commit' || result?.skipReason === 'already_committed';
    if (result?.status !== 'committed' && !(beganCommit && found))
      row.violations.push(`${where}: the continuation ended ${result ? `${result.status}: ${result.error ?? result.skipReason}` : 'still paused after 10 slices'}`);
    const sampled = await sampler.stop();
    row.samples += sampled.samples;
    row.violations.push(...sampled.violations.map((v) => `${where}: ${v}`));

    const jobs = api.created.length - createdBefore;
    if (lostJobs > 0) secondJobs++;
    if (jobs !== 1 + lostJobs)
      row.violations.push(`${where}: ${jobs} jobs created for the window, expected ${1 + lostJobs} (${lostJobs} created by the killed invocation with no job record standing)`);
    const leftRecords = (await storage.list('jobs/')).map((o) => o.key);
    if (leftRecords.length > 0) row.violations.push(`${where}: job record left after the commit: ${leftRecords.join(', ')}`);
    const audit = await auditLake(storage, exp({ outputs, mustCommit: true }));
    record(row, audit, where);
    await ageFiles(lakeDir, ORPHAN_HORIZON_MS + 60_000);
    await collectGarbage(storage, source.name, { streams: [stream.name] });
    const afterGc = await auditLake(storage, exp({ mustCommit: true, afterGc: true, secrets: [] }));
    record(row, afterGc, `${where}, after gc`);
    const leftover = [...(await storage.list('jobs/')), ...(await storage.list('tmp/'))].map((o) => o.key);
    if (leftover.length > 0) row.violations.push(`${where}: left after gc: ${leftover.join(', ')}`);
    row.committed += afterGc.committed;
    if (afterGc.committed === 1 && audit.violations.length + afterGc.violations.length === 0) row.asExpected++;
    await rm(lakeDir, { recursive: true, force: true });
  };

  try {
    const seeds = Array.from({ length: trials }, () => Math.floor(random() * 2 ** 31));
    for (const [n, seed] of seeds.entries()) await trial(n, seededRandom(seed));
  } finally {
    for (const release of releases.splice(0)) release();
    await Promise.all([api.close(), driver.remove()]);
    await rm(dir, { recursive: true, force: true });
  }
  const killed = KILL_POINTS.map((at) => `${counts.get(at) ?? 0} ${at}`).join(', ');
  return { ...row, name: `${row.name.slice(0, -1)}; killed ${killed}; ${secondJobs} with a job no record named)` };
}
