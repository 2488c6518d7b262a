/**
 * Durable windows under kills. A window is landed in slices, as the durable Lambda's steps land it
 * (`runWindowSlice` with a fake short invocation deadline), on the folder lake and on S3 (moto
 * behind the fault proxy). In each trial an invocation taking up a checkpoint runs as a real process
 * (test/faults/sliceInvocation.ts) and is SIGKILLed at a seeded random point: mid-page,
 * mid-part-upload (on S3 with the PUT held at the proxy, before or after S3 stored it), with every
 * part of its slice stored but before it returns the checkpoint, or during the commit (on S3 with
 * the commit's PUT held, before or after S3 stored it). The window is then continued from the last
 * checkpoint returned. Then two processes take up one checkpoint at once: one commits, the other
 * reports the concurrent commit. Every trial is audited (lakeAudit.ts): nothing visible before the
 * commit, the window committed exactly once, its raw parts byte for byte those of an uninterrupted
 * run, no orphan left after gc.
 *
 * The slices before the kill and the continuation after it run in this process (a process start
 * costs seconds on a loaded machine; the faults are the killed processes').
 */

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseSource } from '../../../functions/config/loadSources.js';
import { createSourceClient } from '../../../functions/engine/createSourceClient.js';
import { runWindowSlice, type WindowSliceInput, type WindowSliceOutcome } from '../../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../../functions/engine/WindowCheckpoint.js';
import { EnvSecretProvider } from '../../../functions/secrets/SecretProvider.js';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../../functions/sink/LakeStorage.js';
import { newRunId } from '../../../functions/sink/lakeLayout.js';
import { snapshotStream } from '../../../functions/sink/lakeSnapshot.js';
import { S3LakeStorage } from '../../../functions/sink/S3LakeStorage.js';
import type { TimeWindow } from '../../../functions/window/TimeWindow.js';
import { ageFiles } from '../../support/ageFiles.js';
import { openUploads } from '../../support/awsServers.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../../support/motoServer.js';
import { startS3FaultProxy, type S3Call, type S3FaultProxy } from '../../support/s3FaultProxy.js';
import { between, seededRandom } from '../../support/seededRandom.js';
import type { TestApi } from '../../support/testApi.js';
import { waitUntil } from '../../support/waitUntil.js';
import { auditLake, sampleReaders } from '../lakeAudit.js';
import { expectation, hours, record, report, SECRET_ENV, sourceYaml, startFaultApi, type ScenarioReport } from '../harness.js';
import type { SliceJob } from '../sliceInvocation.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const [WINDOW] = hours(0, 1) as [ReturnType<typeof hours>[number]];
/** The fault API's 60 records in the hour, 5 a page: 12 pages, each page a part of its own (part_size_mb 0.001). */
const PAGES = 12;
/** An invocation still running after this is hung: killed and reported. */
const HUNG_MS = 120_000;
/** Checkpoints of the first invocations that trials start from (besides the window's start). */
const PREFIX_SLICES = 3;

/** The line an invocation prints as it begins writing the commit (a manifest; not a clock probe under manifests/). */
export const COMMIT_WRITE = /^write manifests\/.*\.json$/;

const KILL_POINTS = ['mid-page', 'mid-part', 'before checkpoint', 'in commit'] as const;
type KillPoint = (typeof KILL_POINTS)[number];

/** What an invocation printed and how it ended. */
export interface Invoked {
  readonly lines: string[];
  readonly stderr: string;
  readonly code: number | null;
  readonly killed: boolean;
  readonly checkpoint?: WindowCheckpoint;
  readonly result?: { status: string; skipReason?: string; error?: string };
}

/** A running invocation. */
export interface Invocation {
  readonly lines: string[];
  kill(): void;
  /** Resolves when a printed line matches; the n-th such line with `nth`. */
  waitForLine(pattern: RegExp, nth?: number): Promise<boolean>;
  readonly done: Promise<Invoked>;
}

/** The invocation driver (sliceInvocation.ts), bundled once per run: a process then starts in about half the time tsx takes. */
export async function buildDriver(): Promise<{ file: string; remove: () => Promise<void> }> {
  const esbuild = await import('esbuild');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: object; devDependencies: object };
  const outdir = await mkdtemp(join(ROOT, 'dist', 'faults-driver-'));
  await esbuild.build({
    absWorkingDir: ROOT,
    // The Parquet encoder's thread starts from parquetThread.mjs beside the code that starts it (bin/buildCli.mjs).
    entryPoints: { sliceInvocation: 'test/faults/sliceInvocation.ts', parquetThread: 'functions/tables/parquetThread.ts' },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    // The S3 SDK loads only for an S3 lake, as in the CLI.
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).flatMap((name) => [name, `${name}/*`]),
    logLevel: 'error',
  });
  return { file: join(outdir, 'sliceInvocation.mjs'), remove: () => rm(outdir, { recursive: true, force: true }) };
}

export function invoke(driver: string, job: SliceJob, env: Record<string, string>): Invocation {
  const child = spawn(process.execPath, [driver, JSON.stringify(job)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; nth: number; resolve: (seen: boolean) => void }[] = [];
  let stderr = '';
  let killed = false;
  const check = () => {
    for (const w of [...waiters]) {
      if (lines.filter((l) => w.pattern.test(l)).length < w.nth) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(true);
    }
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    check();
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const hung = setTimeout(() => child.kill('SIGKILL'), HUNG_MS);
  const done = new Promise<Invoked>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(hung);
      for (const w of waiters.splice(0)) w.resolve(false);
      const last = lines.at(-1) ?? '';
      resolve({
        lines,
        stderr,
        code,
        killed,
        ...(last.startsWith('paused ') ? { checkpoint: JSON.parse(last.slice(7)) as WindowCheckpoint } : {}),
        ...(last.startsWith('done ') ? { result: JSON.parse(last.slice(5)) as Invoked['result'] } : {}),
      });
    }),
  );
  return {
    lines,
    kill: () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    },
    waitForLine: (pattern, nth = 1) =>
      new Promise((resolve) => {
        waiters.push({ pattern, nth, resolve });
        check();
      }),
    done,
  };
}

/** Starts an invocation and SIGKILLs it once it has printed the `nth` line matching `pattern`; one that ends first is not killed. */
export async function killAtLine(driver: string, job: SliceJob, env: Record<string, string>, pattern: RegExp, nth = 1): Promise<Invoked> {
  const run = invoke(driver, job, env);
  if (await run.waitForLine(pattern, nth)) run.kill();
  return run.done;
}

/**
 * A source that a scenario lands in slices, here and in invocations: written to `file`, with one
 * run id and a clock that stands at one instant (its sleeps are real), so every slice of a trial
 * stamps the same extraction time and the parts compare with an uninterrupted run's byte for byte.
 * `job` is what every invocation of the window is given.
 */
export async function slicedSource(file: string, text: string, window: TimeWindow) {
  await writeFile(file, text);
  const source = parseSource(text, file);
  const clockMs = Date.now();
  const runId = newRunId(new Date(clockMs));
  const clock = { now: () => clockMs, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
  const job = { source: file, window: { start: window.start.toISOString(), end: window.end.toISOString() }, runId, clockMs };
  return { source, stream: source.streams[0]!, clock, runId, job };
}

/**
 * Lands one slice in this process, as the durable function's step runs it: with a client of its
 * own (secrets from `env`), from `checkpoint` as read back from the durable execution's history.
 */
export async function sliceInProcess(input: Omit<WindowSliceInput, 'client' | 'checkpoint'>, env: Record<string, string>, checkpoint?: WindowCheckpoint): Promise<WindowSliceOutcome> {
  const client = await createSourceClient(input.source, new EnvSecretProvider(env));
  try {
    return await runWindowSlice({ ...input, client, ...(checkpoint ? { checkpoint: JSON.parse(JSON.stringify(checkpoint)) as WindowCheckpoint } : {}) });
  } finally {
    await client.close();
  }
}

/** A lake of one kind, fresh for each trial, and what a trial needs of it. */
interface Lake {
  readonly kind: 'folder' | 'S3';
  /** What invocations and gc use (on S3 through the fault proxy). */
  storage: LakeStorage;
  /** The lake as it is (on S3 straight from moto, not through the proxy's faults). */
  observer: LakeStorage;
  job: Pick<SliceJob, 'lake' | 'bucket'>;
  readonly env: Record<string, string>;
  readonly proxy?: S3FaultProxy;
  /** A new empty lake holding `files` (a snapshot). */
  fresh(files?: Snapshot): Promise<void>;
  snapshot(): Promise<Snapshot>;
  /** Ages every stored file past the orphan horizon, by the storage's clock. */
  ageAll(): Promise<void>;
  openUploads(): Promise<string[]>;
}

type Snapshot = readonly { key: string; bytes: Buffer }[];

let lakes = 0;

async function snapshotOf(storage: LakeStorage): Promise<Snapshot> {
  const files: { key: string; bytes: Buffer }[] = [];
  for (const prefix of ['raw/', 'curated/', 'manifests/', 'symlinks/']) {
    for (const object of await storage.list(prefix)) files.push({ key: object.key, bytes: (await storage.read(object.key))! });
  }
  return files;
}

function folderLake(dir: string): Lake {
  const lake: Lake = {
    kind: 'folder',
    storage: undefined as unknown as LakeStorage,
    observer: undefined as unknown as LakeStorage,
    job: { lake: '' },
    env: { ...SECRET_ENV, NO_COLOR: '1' },
    fresh: async (files = []) => {
      const path = join(dir, `lake-${++lakes}`);
      await mkdir(path);
      lake.storage = lake.observer = new FsLakeStorage(path);
      lake.job = { lake: path };
      for (const file of files) await lake.storage.writeBytes(file.key, file.bytes);
    },
    snapshot: () => snapshotOf(lake.observer),
    ageAll: async () => void (await ageFiles(lake.job.lake, ORPHAN_HORIZON_MS + 60_000)),
    openUploads: () => Promise.resolve([]),
  };
  return lake;
}

function s3Lake(moto: MotoServer, proxy: S3FaultProxy): Lake {
  const s3 = new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true });
  const lake: Lake = {
    kind: 'S3',
    storage: undefined as unknown as LakeStorage,
    observer: undefined as unknown as LakeStorage,
    job: { lake: '' },
    env: { ...moto.env, ...SECRET_ENV, AWS_ENDPOINT_URL_S3: proxy.endpoint, NO_COLOR: '1' },
    proxy,
    fresh: async (files = []) => {
      const bucket = `slices-${++lakes}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      // The SDK's notice about PutObject streams of unknown length (lib-storage's single-part uploads) would break the suite's table.
      const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
      lake.storage = new S3LakeStorage({ bucket, client: new S3Client({ ...MOTO_AWS, endpoint: proxy.endpoint, forcePathStyle: true, logger: quiet }), partSizeBytes: 5 * 1024 * 1024 });
      lake.observer = new S3LakeStorage({ bucket, client: s3 });
      lake.job = { lake: '', bucket };
      // Through the proxy, which dates each object as S3 would.
      for (const file of files) await lake.storage.writeBytes(file.key, file.bytes);
    },
    snapshot: () => snapshotOf(lake.observer),
    ageAll: () => Promise.resolve(proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000)),
    openUploads: () => openUploads(s3, lake.job.bucket!),
  };
  return lake;
}

/** Where trials start: the window's start, then the checkpoints of its first invocations, with the lake as each left it. */
interface StartPoint {
  readonly checkpoint?: WindowCheckpoint;
  readonly files: Snapshot;
}

export async function durableSlices(random: () => number, killTrials: number, raceTrials: number): Promise<ScenarioReport[]> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-faults-slices-'));
  const api: TestApi = await startFaultApi(10);
  const [moto, driver] = await Promise.all([startMoto(), buildDriver()]);
  const proxy = await startS3FaultProxy(moto.endpoint);
  // The function's role cannot list every prefix: a read of a missing key is 403, as in lambda.ts.
  proxy.denyMissingKeys(true);
  const sourceFile = join(dir, 'faults.yaml');
  await writeFile(sourceFile, sourceYaml(api.url));
  // Every invocation's clock stands at this instant: the extraction time in every envelope is the same.
  const clockMs = Date.now();
  const runId = newRunId(new Date(clockMs));
  const base = { source: sourceFile, window: { start: WINDOW.start.toISOString(), end: WINDOW.end.toISOString() }, runId, clockMs };
  const exp = (outputs: string[] = [], extra = {}) => expectation(api, [WINDOW], { outputs, ...extra });
  const checkpointFile = checkpointFiles(dir);

  const clock = { now: () => clockMs, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };
  /**
   * A slice in this process, as the sliced invocations before and after the faults: from `checkpoint`,
   * pausing after `pages` pages (at the next part boundary), or landing the rest of the window.
   */
  const slice = async (storage: LakeStorage, checkpoint?: WindowCheckpoint, pages?: number): Promise<WindowSliceOutcome> => {
    const source = parseSource(sourceYaml(api.url), 'faults.yaml');
    let landed = 0;
    const stop = pages !== undefined ? { stopWhen: () => landed >= pages } : {};
    return sliceInProcess({ source, stream: source.streams[0]!, window: WINDOW, storage, clock, runId, onPage: () => landed++, ...stop }, SECRET_ENV, checkpoint);
  };

  /** The raw parts' sha256 of the window landed uninterrupted, in one slice, with the same run id and clock. */
  const reference = async (): Promise<string[]> => {
    const storage = new FsLakeStorage(join(dir, 'reference'));
    const outcome = await slice(storage);
    if (outcome.kind !== 'done' || outcome.result.status !== 'committed') throw new Error(`the uninterrupted reference run did not commit: ${JSON.stringify(outcome)}`);
    const [committed] = (await snapshotStream(storage, 'faults', 'items')).committed;
    return committed!.manifest.parts.map((p) => p.sha256);
  };

  /** After a trial: committed once, exactly, byte for byte the reference; gc leaves nothing behind. */
  const finalAudit = async (row: ScenarioReport, lake: Lake, want: readonly string[], outputs: string[], context: string) => {
    const audit = await auditLake(lake.observer, exp(outputs, { mustCommit: true }));
    record(row, audit, context);
    const [committed] = (await snapshotStream(lake.observer, 'faults', 'items')).committed;
    const got = committed?.manifest.parts.map((p) => p.sha256) ?? [];
    if (committed && JSON.stringify(got) !== JSON.stringify(want))
      row.violations.push(`${context}: the committed raw parts (${got.length}) are not byte for byte those of an uninterrupted run (${want.length})`);
    await lake.ageAll();
    await collectGarbage(lake.storage, 'faults', { streams: ['items'] });
    const afterGc = await auditLake(lake.observer, exp([], { mustCommit: true, afterGc: true, secrets: [] }));
    record(row, afterGc, `${context}, after gc`);
    if ((await lake.openUploads()).length > 0) row.violations.push(`${context}: multipart uploads left open after gc`);
    row.committed += afterGc.committed;
    return afterGc.committed === 1 && audit.violations.length + afterGc.violations.length === 0;
  };

  /** The first slices of the window, of seeded sizes: the checkpoints trials start from, with the lake as each left it. */
  const startPoints = async (lake: Lake, row: ScenarioReport): Promise<StartPoint[]> => {
    await lake.fresh();
    const points: StartPoint[] = [{ files: [] }];
    let checkpoint: WindowCheckpoint | undefined;
    while (points.length <= PREFIX_SLICES) {
      const outcome = await slice(lake.storage, checkpoint, between(random, 1, 3));
      if (outcome.kind !== 'paused') {
        const { status, skipReason, error } = outcome.result;
        row.violations.push(`${lake.kind}: slice ${points.length} of the window ended ${status} (${error?.message ?? skipReason ?? ''}) instead of pausing at its deadline`);
        break;
      }
      checkpoint = outcome.checkpoint;
      points.push({ checkpoint, files: await lake.snapshot() });
    }
    return points;
  };

  /**
   * Starts an invocation from `point` and kills it at `at`; resolves with what it did and whether
   * it began writing the commit (before that, nothing may be visible).
   */
  const killAt = async (lake: Lake, point: StartPoint, at: KillPoint, draw: () => number): Promise<{ run: Invoked; how: string }> => {
    const remaining = PAGES - (point.checkpoint?.counters.pages ?? 0);
    const job: SliceJob = { ...base, ...lake.job, ...(await checkpointFile(point.checkpoint)) };
    const proxy = lake.proxy;
    switch (at) {
      case 'mid-page': {
        const nth = between(draw, 1, remaining);
        return { run: await killAtLine(driver.file, job, lake.env, /^page /, nth), how: `after page ${nth} of ${remaining}` };
      }
      case 'mid-part': {
        const nth = between(draw, 1, remaining);
        const isPart = (c: S3Call) => c.operation === 'PutObject' && c.key.startsWith('raw/');
        if (!proxy) {
          return { run: await killAtLine(driver.file, job, lake.env, /^write raw\//, nth), how: `writing part ${nth} of ${remaining}` };
        }
        // On S3 the part's PUT is held at the proxy: the process dies with the upload in flight, before or after S3 stored it.
        const stored = draw() < 0.5;
        proxy.inject({ match: isPart, skip: nth - 1, times: 1, fault: { kind: stored ? 'stall-after' : 'stall' } });
        const run = invoke(driver.file, job, lake.env);
        await strikeWhenHeld(lake, run, stored);
        return { run: await run.done, how: `uploading part ${nth} of ${remaining} (${stored ? 'stored by S3, response lost' : 'not yet stored'})` };
      }
      case 'before checkpoint': {
        const deadlineMs = between(draw, 10, 150);
        return {
          run: await killAtLine(driver.file, { ...job, deadlineMs, hold: 'checkpoint' }, lake.env, /^held$/),
          how: `with its slice's parts stored, before returning the checkpoint (deadline ${deadlineMs} ms)`,
        };
      }
      case 'in commit': {
        const variant = between(draw, 0, 2);
        if (variant === 2) {
          return { run: await killAtLine(driver.file, { ...job, hold: 'committed' }, lake.env, /^held$/), how: 'with the commit written, before returning' };
        }
        if (!proxy) {
          // The kill races the commit's write and what follows it.
          return { run: await killAtLine(driver.file, job, lake.env, COMMIT_WRITE), how: 'as the commit began' };
        }
        const stored = variant === 1;
        proxy.inject({ match: (c) => c.operation === 'PutObject' && c.key.startsWith('manifests/') && c.key.endsWith('.json'), times: 1, fault: { kind: stored ? 'stall-after' : 'stall' } });
        const run = invoke(driver.file, job, lake.env);
        await strikeWhenHeld(lake, run, stored);
        return { run: await run.done, how: `putting the commit (${stored ? 'stored by S3, response lost' : 'not yet stored'})` };
      }
    }
  };

  /** Kills the invocation once the proxy holds its request (and, for `stored`, once S3 has applied it). */
  const strikeWhenHeld = async (lake: Lake, run: Invocation, stored: boolean) => {
    const proxy = lake.proxy!;
    const before = proxy.calls.length;
    let finished = false;
    void run.done.then(() => (finished = true));
    const held = () => proxy.calls.slice(before).find((c) => c.fault === 'stall' || c.fault === 'stall-after');
    await waitUntil(() => finished || held() !== undefined, { what: 'the proxy holds the request', withinMs: HUNG_MS });
    const call = held();
    if (call && stored) await waitUntil(async () => (await lake.observer.list(call.key)).some((o) => o.key === call.key), { what: `S3 stored ${call.key}`, withinMs: 30_000 });
    proxy.clear();
    run.kill();
  };

  /** A trial: an invocation killed at a seeded point, then the window continued from the last checkpoint returned. */
  const killTrial = async (lake: Lake, points: readonly StartPoint[], want: readonly string[], row: ScenarioReport, trial: number, counts: Map<KillPoint, number>, draw: () => number) => {
    const at = KILL_POINTS[trial % KILL_POINTS.length]!;
    const point = points[between(draw, 0, points.length - 1)]!;
    await lake.fresh(point.files);
    const context = `${lake.kind} trial ${trial} (from ${point.checkpoint ? `checkpoint ${point.checkpoint.slices}` : 'the start'}, killed ${at}`;
    // Readers sample the folder lake all along; on S3 (moto, slow to list) the audits after the kill and at the end suffice.
    const sampler = lake.kind === 'folder' ? sampleReaders(lake.observer, exp()) : undefined;
    const outputs: string[] = [];
    const { run: killed, how } = await killAt(lake, point, at, draw);
    outputs.push(killed.lines.join('\n'), killed.stderr);
    row.trials++;
    const where = `${context} ${how})`;
    if (killed.killed) {
      row.faults++;
      counts.set(at, (counts.get(at) ?? 0) + 1);
    } else if (killed.code !== 0) row.violations.push(`${where}: the invocation failed before it could be killed: ${killed.stderr.slice(0, 300)}`);
    // Nothing is visible before the commit: an invocation that never began writing it left no committed window.
    const beganCommit = killed.lines.some((l) => COMMIT_WRITE.test(l));
    const afterKill = await auditLake(lake.observer, exp(outputs, { secrets: [] }));
    record(row, afterKill, `${where}, after the kill`);
    if (!beganCommit && afterKill.committed > 0) row.violations.push(`${where}: the window is visible, yet no invocation wrote its commit`);
    // Continue from the last checkpoint returned: the killed invocation's start, or its own if it paused before the kill.
    const resumeFrom = killed.checkpoint ?? point.checkpoint;
    if (!killed.result) {
      const resumed = await slice(lake.storage, resumeFrom);
      const result = resumed.kind === 'done' ? resumed.result : undefined;
      outputs.push(JSON.stringify({ ...result, error: result?.error?.message }));
      // After a commit the killed invocation wrote: the continuation finds it (its own attempt's, or, from the start, a commit there already).
      const found = result?.skipReason === 'concurrent_commit' || result?.skipReason === 'already_committed';
      if (result?.status !== 'committed' && !(beganCommit && found))
        row.violations.push(`${where}: the continuation ended ${resumed.kind === 'done' ? `${resumed.result.status}: ${resumed.result.error?.message ?? resumed.result.skipReason}` : 'paused'}`);
    }
    if (sampler) {
      const sampled = await sampler.stop();
      row.samples += sampled.samples;
      row.violations.push(...sampled.violations.map((v) => `${where}: ${v}`));
    }
    if (await finalAudit(row, lake, want, outputs, where)) row.asExpected++;
  };

  /** Two invocations take up one checkpoint at once: one commits, the other reports the concurrent commit, nothing is damaged. */
  const raceTrial = async (lake: Lake, points: readonly StartPoint[], want: readonly string[], row: ScenarioReport, trial: number, draw: () => number) => {
    if (points.length < 2) return void row.violations.push(`${lake.kind} race ${trial}: no checkpoint to take up`);
    const point = points[between(draw, 1, points.length - 1)]!;
    await lake.fresh(point.files);
    const context = `${lake.kind} race ${trial} (from checkpoint ${point.checkpoint?.slices})`;
    const sampler = lake.kind === 'folder' ? sampleReaders(lake.observer, exp()) : undefined;
    const job = { ...base, ...lake.job, ...(await checkpointFile(point.checkpoint)) };
    const runs = await Promise.all([invoke(driver.file, job, lake.env).done, invoke(driver.file, job, lake.env).done]);
    const outputs = runs.flatMap((r) => [r.lines.join('\n'), r.stderr]);
    row.trials++;
    row.faults++;
    const statuses = runs.map((r) => (r.result ? `${r.result.status}${r.result.skipReason ? ` ${r.result.skipReason}` : ''}` : `exit ${r.code}: ${r.stderr.slice(0, 200)}`)).sort();
    if (JSON.stringify(statuses) !== JSON.stringify(['committed', 'skipped concurrent_commit']))
      row.violations.push(`${context}: the two invocations ended ${JSON.stringify(statuses)}, not one commit and one concurrent_commit`);
    if (sampler) {
      const sampled = await sampler.stop();
      row.samples += sampled.samples;
      row.violations.push(...sampled.violations.map((v) => `${context}: ${v}`));
    }
    if (await finalAudit(row, lake, want, outputs, context)) row.asExpected++;
  };

  const rows: ScenarioReport[] = [];
  try {
    const want = await reference();
    const lakesByKind = [folderLake(dir), s3Lake(moto, proxy)];
    const race = report(`durable slices: two invocations take up one checkpoint (${raceTrials} trials)`);
    const prefixes = new Map<Lake, StartPoint[]>();
    const series: { lake: Lake; row: ScenarioReport; points: StartPoint[]; seeds: number[]; counts: Map<KillPoint, number> }[] = [];
    for (const lake of lakesByKind) {
      const trials = Math.ceil(killTrials / 2) - (lake.kind === 'S3' ? killTrials % 2 : 0);
      const row = report(`durable slices on ${lake.kind === 'S3' ? 'S3' : 'a folder lake'}: SIGKILL, continue (${trials} trials)`);
      const points = await startPoints(lake, row);
      prefixes.set(lake, points);
      series.push({ lake, row, points, seeds: Array.from({ length: trials }, () => Math.floor(random() * 2 ** 31)), counts: new Map() });
    }
    // The folder lake's trials and S3's run side by side (each trial draws from its own seed, so a run replays the same);
    // one after the other they took twice as long on a loaded machine.
    await Promise.all(
      series.map(async ({ lake, row, points, seeds, counts }) => {
        for (const [trial, seed] of seeds.entries()) await killTrial(lake, points, want, row, trial, counts, seededRandom(seed));
      }),
    );
    for (const { row, counts } of series) {
      const killed = KILL_POINTS.map((at) => `${counts.get(at) ?? 0} ${at}`).join(', ');
      rows.push({ ...row, name: `${row.name.slice(0, -1)}; killed ${killed})` });
    }
    const raceSeeds = Array.from({ length: raceTrials }, () => Math.floor(random() * 2 ** 31));
    await Promise.all(
      lakesByKind.map(async (lake, which) => {
        for (let trial = which; trial < raceTrials; trial += lakesByKind.length) await raceTrial(lake, prefixes.get(lake)!, want, race, trial, seededRandom(raceSeeds[trial]!));
      }),
    );
    if (raceTrials > 0) rows.push(race);
  } finally {
    proxy.clear();
    await Promise.all([api.close(), proxy.close(), driver.remove()]);
    await moto.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

/** Writes each checkpoint an invocation takes up to a file of its own in `dir`: `{ checkpoint: path }`, or `{}` for none. */
export function checkpointFiles(dir: string): (checkpoint?: WindowCheckpoint) => Promise<{ checkpoint?: string }> {
  let written = 0;
  return async (checkpoint) => {
    if (!checkpoint) return {};
    const file = join(dir, `checkpoint-${++written}.json`);
    await writeFile(file, JSON.stringify(checkpoint));
    return { checkpoint: file };
  };
}
