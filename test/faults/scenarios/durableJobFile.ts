/**
 * One large result file of a job, landed in durable slices under kills. The job's one result is a
 * JSON Lines file on a host that serves byte ranges with a strong ETag (test/support/breakingFileServer.ts),
 * so a slice stops within the file at a part boundary and the next takes it up by `Range` from the
 * byte after the last landed line. In each trial the window's first slices run here, each stopping
 * after a seeded number of parts, then one or two invocations run as real processes
 * (test/faults/sliceInvocation.ts), each taking up the last checkpoint returned and SIGKILLed at a
 * seeded point: once the host sent a seeded number of bytes of its answer, as a seeded part begins
 * to be written or once it is stored, with its slice's parts stored before it returns its
 * checkpoint, or during the commit. Between kills and after the last, the window goes on here in
 * slices of seeded sizes to its commit. Audited: nothing visible before the commit, the window
 * committed once with every line of the file exactly once, its raw data byte for byte that of an
 * uninterrupted run, each ranged request at a line's start and answered 206, one job, no job
 * record left, no orphan after gc.
 */

import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PartPace } from '../../../functions/engine/landPages.js';
import type { WindowSliceOutcome } from '../../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../../functions/engine/WindowCheckpoint.js';
import type { JobDownloadCursor } from '../../../functions/engine/WindowCursor.js';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../../functions/sink/LakeStorage.js';
import { snapshotStream } from '../../../functions/sink/lakeSnapshot.js';
import { ageFiles } from '../../support/ageFiles.js';
import { jobFileSourceText, startJobFileHost } from '../../support/jobFileSource.js';
import { between, seededRandom } from '../../support/seededRandom.js';
import type { Item } from '../../support/testApi.js';
import { waitUntil } from '../../support/waitUntil.js';
import { auditLake, sampleReaders, type Expectation } from '../lakeAudit.js';
import { record, report, type ScenarioReport } from '../harness.js';
import type { SliceJob } from '../sliceInvocation.js';
import { buildDriver, checkpointFiles, COMMIT_WRITE, invoke, killAtLine, slicedSource, sliceInProcess, type Invoked } from './durableSlices.js';

const TOKEN = 'files-fault!token_8e41c07b5d29';
const ENV = { APILAKE_SECRET_APILAKE_FILES: JSON.stringify({ token: TOKEN }), NO_COLOR: '1' };
/** The daily window of the job stream (jobFileSource.ts). */
const WINDOW = { start: new Date('2024-03-01T00:00:00Z'), end: new Date('2024-03-02T00:00:00Z') };
const RECORDS = 5000;
/** About 17 parts for the file's 7.7 MB of lines. */
const PART_MB = 0.5;

const KILL_POINTS = ['mid-transfer', 'mid-part', 'before checkpoint', 'in commit'] as const;
type KillPoint = (typeof KILL_POINTS)[number];
/** Kill points after which the window is still to land: a trial's earlier kills fall on these. */
const WITHIN_FILE: readonly KillPoint[] = ['mid-transfer', 'mid-part', 'before checkpoint'];

/**
 * The file: lines of 1 to 2 KB, with text of two-, three- and four-byte UTF-8 characters, so a byte
 * offset is never a character count; one line in seven ends in CRLF, and the last has no line end.
 */
function resultFile(): { file: Buffer; records: Item[] } {
  const records = Array.from({ length: RECORDS }, (_, i) => ({ id: i, note: `é€😀 ${i}`, pad: 'x'.repeat(1000 + ((i * 37) % 1000)) }));
  const text = records.map((r, i) => JSON.stringify(r) + (i === RECORDS - 1 ? '' : i % 7 === 3 ? '\r\n' : '\n')).join('');
  return { file: Buffer.from(text), records: records as unknown as Item[] };
}

/** SHA-256 of the committed window's raw parts, decompressed and concatenated: its raw data, wherever its parts end. */
async function rawDigest(storage: LakeStorage, source: string, stream: string): Promise<string | undefined> {
  const [committed] = (await snapshotStream(storage, source, stream)).committed;
  if (!committed) return undefined;
  const hash = createHash('sha256');
  for (const part of committed.manifest.parts) hash.update(gunzipSync((await storage.read(part.key)) ?? Buffer.alloc(0)));
  return hash.digest('hex');
}

export async function durableJobFile(random: () => number, trials: number): Promise<ScenarioReport> {
  const dir = await mkdtemp(join(tmpdir(), 'apilake-faults-job-file-'));
  const { file, records } = resultFile();
  const { api, files } = await startJobFileHost({ versions: [file], contentType: 'application/jsonl', cuts: [], ranges: true, chunkBytes: 16 * 1024 });
  const driver = await buildDriver();
  const text = jobFileSourceText(api, files, 'jsonl', 3, (doc) => {
    doc.lake = { part_size_mb: PART_MB };
  });
  const { source, stream, clock, runId, job: base } = await slicedSource(join(dir, 'exports.yaml'), text, WINDOW);
  // No retry budget: each slice polls the job and asks for the file once more, so a file landed in many slices counts many requests for its one page.
  const exp = (extra: Partial<Expectation> = {}): Expectation => ({ source: source.name, stream: stream.name, windows: [WINDOW], expected: () => records, secrets: [TOKEN], ...extra });
  const checkpointFile = checkpointFiles(dir);
  const creates = () => api.requests.filter((r) => r.method === 'POST').length;

  /** A slice here, as the durable function's step runs it: from `checkpoint`, stopping at the part boundary after `parts` part boundaries, or landing the rest. */
  const slice = async (storage: LakeStorage, checkpoint?: WindowCheckpoint, parts?: number): Promise<WindowSliceOutcome> => {
    const stop = parts === undefined ? {} : { stopWhen: (pace: PartPace) => pace.boundaries >= parts };
    return sliceInProcess({ source, stream, window: WINDOW, storage, clock, runId, ...stop }, ENV, checkpoint);
  };

  /** The raw data of the window landed uninterrupted, in one slice, with the same run id and clock. */
  const referenceStorage = new FsLakeStorage(join(dir, 'reference'));
  const reference = await slice(referenceStorage);
  if (reference.kind !== 'done' || reference.result.status !== 'committed') throw new Error(`the uninterrupted reference run did not commit: ${JSON.stringify(reference)}`);
  const want = (await rawDigest(referenceStorage, source.name, stream.name))!;
  const [referenceCommit] = (await snapshotStream(referenceStorage, source.name, stream.name)).committed;
  const referenceParts = referenceCommit!.manifest.parts.length;

  /** Starts an invocation from `checkpoint` and kills it at `at`. */
  const killAt = async (at: KillPoint, checkpoint: WindowCheckpoint | undefined, job: SliceJob, draw: () => number): Promise<{ run: Invoked; how: string }> => {
    const offset = (checkpoint?.next as JobDownloadCursor | undefined)?.offset ?? 0;
    const partsLeft = Math.max(1, Math.round((referenceParts * (file.length - offset)) / file.length));
    switch (at) {
      case 'mid-transfer': {
        // Bytes of the host's answer (the whole file, or its rest from the offset).
        const bytes = between(draw, 1, file.length - offset - 1);
        const request = files.requests.length;
        const run = invoke(driver.file, job, ENV);
        let finished = false;
        void run.done.then(() => (finished = true));
        await waitUntil(() => finished || (files.requests[request]?.sent ?? 0) >= bytes, { what: `the file host sent ${bytes} bytes`, withinMs: 120_000 });
        run.kill();
        return { run: await run.done, how: `once the host sent ${bytes} bytes from byte ${offset}` };
      }
      case 'mid-part': {
        const nth = between(draw, 1, Math.max(1, partsLeft - 1));
        const stored = draw() < 0.5;
        return {
          run: await killAtLine(driver.file, job, ENV, stored ? /^wrote raw\// : /^write raw\//, nth),
          how: `${stored ? 'with part' : 'as part'} ${nth} of about ${partsLeft} left ${stored ? 'stored' : 'began writing'}`,
        };
      }
      case 'before checkpoint': {
        const deadlineMs = between(draw, 10, 200);
        return {
          run: await killAtLine(driver.file, { ...job, deadlineMs, hold: 'checkpoint' }, ENV, /^held$/),
          how: `with its slice's parts stored, before returning the checkpoint (deadline ${deadlineMs} ms)`,
        };
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

  const counts = new Map<KillPoint, number>();
  let withinFile = 0;
  let ranged = 0;
  const row = report(`durable job file: SIGKILL within one JSON Lines result file, continue (${trials} trials)`);

  const trial = async (n: number, draw: () => number) => {
    const lakeDir = join(dir, `lake-${n}`);
    const storage = new FsLakeStorage(lakeDir);
    const createsBefore = creates();
    const requestsBefore = files.requests.length;
    const outputs: string[] = [];
    row.trials++;
    const sampler = sampleReaders(storage, exp());
    const steps: string[] = [];
    const where = () => `trial ${n} (${steps.join(', ')})`;
    let checkpoint: WindowCheckpoint | undefined;
    let result: { status: string; skipReason?: string; error?: string } | undefined;
    let beganCommit = false;
    /** Lands one slice here; false when it did not pause (its result is then the window's). */
    const sliceHere = async (parts?: number): Promise<boolean> => {
      const outcome = await slice(storage, checkpoint, parts);
      if (outcome.kind === 'paused') {
        checkpoint = outcome.checkpoint;
        const at = (checkpoint.next as JobDownloadCursor).offset;
        steps.push(`a slice here to byte ${at ?? '?'}`);
        return true;
      }
      const { status, skipReason, error } = outcome.result;
      result = { status, ...(skipReason ? { skipReason } : {}), ...(error ? { error: error.message } : {}) };
      steps.push(`a slice here ${status}${skipReason ? ` ${skipReason}` : ''}`);
      return false;
    };

    // The slices before the first kill, each stopping within the file.
    const before = between(draw, 0, 2);
    for (let i = 0; i < before && !result; i++) {
      const parts = between(draw, 1, 4);
      if (!(await sliceHere(parts))) row.violations.push(`${where()}: a slice asked to stop after ${parts} parts did not stop within the file`);
    }
    const kills = between(draw, 1, 2);
    for (let k = 0; k < kills && !result; k++) {
      // The trial's last kill goes round every kill point; an earlier one falls within the file, with the window still to land.
      const at = k === kills - 1 ? KILL_POINTS[n % KILL_POINTS.length]! : WITHIN_FILE[between(draw, 0, WITHIN_FILE.length - 1)]!;
      const request = files.requests.length;
      const { run: killed, how } = await killAt(at, checkpoint, { ...base, lake: lakeDir, ...(await checkpointFile(checkpoint)) }, draw);
      steps.push(`from byte ${(checkpoint?.next as JobDownloadCursor | undefined)?.offset ?? 0} ${killed.killed ? 'killed' : 'to be killed, but it ended first,'} ${how}`);
      outputs.push(killed.lines.join('\n'), killed.stderr);
      const commitLine = killed.lines.some((l) => COMMIT_WRITE.test(l));
      beganCommit ||= commitLine;
      if (killed.killed) {
        row.faults++;
        counts.set(at, (counts.get(at) ?? 0) + 1);
        if (files.requests.length > request && !commitLine) withinFile++;
      } else if (killed.code !== 0) row.violations.push(`${where()}: the invocation failed before it could be killed: ${killed.stderr.slice(0, 300)}`);
      const afterKill = await auditLake(storage, exp({ outputs, secrets: [] }));
      record(row, afterKill, `${where()}, after the kill`);
      if (!beganCommit && afterKill.committed > 0) row.violations.push(`${where()}: the window is visible, yet no invocation wrote its commit`);
      if (killed.result) result = killed.result;
      // Continue from the last checkpoint returned: the invocation's own when it paused before the kill, else the one it took up.
      else if (killed.checkpoint) checkpoint = killed.checkpoint;
      if (k < kills - 1 && !result) await sliceHere(between(draw, 1, 4));
    }
    // The rest of the window, in slices of seeded sizes.
    for (let slices = 0; !result && slices < 40; slices++) await sliceHere(between(draw, 1, 8));
    outputs.push(JSON.stringify(result ?? null));
    const found = result?.skipReason === 'concurrent_commit' || result?.skipReason === 'already_committed';
    if (result?.status !== 'committed' && !(beganCommit && found))
      row.violations.push(`${where()}: the window ended ${result ? `${result.status}: ${result.error ?? result.skipReason}` : 'still paused after 40 slices'}`);
    const sampled = await sampler.stop();
    row.samples += sampled.samples;
    row.violations.push(...sampled.violations.map((v) => `${where()}: ${v}`));

    // Each ranged request took the same file up at the start of a line, and its host's 206 was accepted.
    for (const request of files.requests.slice(requestsBefore)) {
      if (request.headers.range === undefined) continue;
      const offset = Number(/^bytes=(\d+)-$/.exec(request.headers.range)?.[1]);
      if (request.status !== 206 || request.headers['if-range'] !== '"v0"' || !(offset > 0 && file[offset - 1] === 0x0a))
        row.violations.push(
          `${where()}: asked for ${request.headers.range} if-range ${JSON.stringify(request.headers['if-range'])} (answered ${request.status}), not the rest of the file from the start of a line`,
        );
      ranged++;
    }
    const jobs = creates() - createsBefore;
    if (jobs !== 1) row.violations.push(`${where()}: ${jobs} jobs created for the window, expected 1`);
    const leftRecords = (await storage.list('jobs/')).map((o) => o.key);
    if (leftRecords.length > 0) row.violations.push(`${where()}: job record left after the commit: ${leftRecords.join(', ')}`);
    const audit = await auditLake(storage, exp({ outputs, mustCommit: true }));
    record(row, audit, where());
    const got = await rawDigest(storage, source.name, stream.name);
    if (got !== undefined && got !== want) row.violations.push(`${where()}: the committed raw data is not byte for byte that of an uninterrupted run`);
    await ageFiles(lakeDir, ORPHAN_HORIZON_MS + 60_000);
    await collectGarbage(storage, source.name, { streams: [stream.name] });
    const afterGc = await auditLake(storage, exp({ mustCommit: true, afterGc: true, secrets: [] }));
    record(row, afterGc, `${where()}, after gc`);
    const leftover = [...(await storage.list('jobs/')), ...(await storage.list('tmp/'))].map((o) => o.key);
    if (leftover.length > 0) row.violations.push(`${where()}: left after gc: ${leftover.join(', ')}`);
    row.committed += afterGc.committed;
    if (afterGc.committed === 1 && got === want && audit.violations.length + afterGc.violations.length === 0) row.asExpected++;
    await rm(lakeDir, { recursive: true, force: true });
  };

  try {
    const seeds = Array.from({ length: trials }, () => Math.floor(random() * 2 ** 31));
    for (const [n, seed] of seeds.entries()) await trial(n, seededRandom(seed));
    // The scenario proves nothing if no kill fell within the file, or no slice took the file up by a range.
    if (trials >= KILL_POINTS.length && withinFile === 0) row.violations.push('no invocation was killed within the file');
    if (trials > 0 && ranged === 0) row.violations.push('no slice took the file up by a byte range');
  } finally {
    await Promise.all([api.close(), files.close(), driver.remove()]);
    await rm(dir, { recursive: true, force: true });
  }
  const killed = KILL_POINTS.map((at) => `${counts.get(at) ?? 0} ${at}`).join(', ');
  return { ...row, name: `${row.name.slice(0, -1)}; killed ${killed}, ${withinFile} within the file; ${ranged} ranged requests)` };
}
