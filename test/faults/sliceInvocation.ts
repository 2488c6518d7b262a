/**
 * One invocation of a durable window, as a process the fault suite can SIGKILL: it lands one slice
 * of a window with `runWindowSlice` (what the durable Lambda's step runs), from the checkpoint the
 * previous invocation returned, and stops at the next part boundary once its fake invocation
 * deadline has passed. It reports what it does on stdout, one line per event, written before it
 * goes on (`page <n>`, `write <key>` before a file is written, `wrote <key>` after), then the
 * outcome: `paused <checkpoint JSON>` or `done <result JSON>`.
 *
 * With `hold`, it stops at that point for good and says `held`, so the suite can kill it exactly
 * there: `checkpoint` (every part of the slice stored, the checkpoint not yet returned) or
 * `committed` (the commit written, its result not yet returned). With `holdBeforeWrite` (a regular
 * expression) it stops so, and says `held`, before writing the first key that matches.
 * With `pauseJobs`, a job stream's slice pauses on every poll that finds the job not done.
 *
 * The job, as JSON in argv[2]: { source (YAML file), lake (folder) or bucket (S3, from the
 * environment's endpoint), window {start, end}, checkpoint (file, optional), runId, clockMs,
 * deadlineMs (optional: without it the slice lands the whole window), hold, holdBeforeWrite,
 * pauseJobs (optional) }.
 * The clock stands still at `clockMs` (its sleeps are real), so every invocation of a trial stamps
 * the same extraction time and the parts can be compared byte for byte with an uninterrupted run.
 */

import { writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { systemClock, type Clock } from '../../functions/clock.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runWindowSlice } from '../../functions/engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../../functions/engine/WindowCheckpoint.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { openLake } from '../../functions/sink/openLake.js';

/** What the suite asks of one invocation. */
export interface SliceJob {
  readonly source: string;
  readonly lake: string;
  readonly bucket?: string;
  readonly window: { readonly start: string; readonly end: string };
  readonly checkpoint?: string;
  readonly runId: string;
  readonly clockMs: number;
  readonly deadlineMs?: number;
  readonly hold?: 'checkpoint' | 'committed';
  readonly holdBeforeWrite?: string;
  readonly pauseJobs?: boolean;
}

const say = (line: string) => writeSync(1, `${line}\n`);
const holdForever = (): Promise<never> => {
  say('held');
  return new Promise<never>(() => setInterval(() => undefined, 60_000));
};

/** The storage, saying before and after each file written which key it is. */
function announcing(storage: LakeStorage, holdBefore?: RegExp): LakeStorage {
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      if (property !== 'writeStream' && property !== 'writeBytes' && property !== 'putIfAbsent') return (value as (...a: unknown[]) => unknown).bind(target);
      return async (key: string, ...rest: unknown[]) => {
        if (holdBefore?.test(key)) await holdForever();
        say(`write ${key}`);
        const result: unknown = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, [key, ...rest]);
        say(`wrote ${key}`);
        return result;
      };
    },
  });
}

async function main(): Promise<void> {
  const invoked = performance.now();
  const job = JSON.parse(process.argv[2] ?? '') as SliceJob;
  const source = parseSource(await readFile(job.source, 'utf8'), job.source);
  const clock: Clock = { ...systemClock, now: () => job.clockMs };
  const storage = announcing(await openLake({ lake: job.lake, ...(job.bucket ? { bucket: job.bucket } : {}) }), job.holdBeforeWrite ? new RegExp(job.holdBeforeWrite) : undefined);
  const client = await createSourceClient(source, new EnvSecretProvider());
  const checkpoint = job.checkpoint ? (JSON.parse(await readFile(job.checkpoint, 'utf8')) as WindowCheckpoint) : undefined;
  const outcome = await runWindowSlice({
    source,
    stream: source.streams[0]!,
    window: { start: new Date(job.window.start), end: new Date(job.window.end) },
    client,
    storage,
    clock,
    runId: job.runId,
    ...(checkpoint ? { checkpoint } : {}),
    onPage: (page) => say(`page ${page.index}`),
    ...(job.pauseJobs ? { pauseJobWhen: () => true } : {}),
    ...(job.deadlineMs !== undefined ? { stopWhen: () => performance.now() - invoked >= job.deadlineMs! } : {}),
  });
  if (outcome.kind === 'paused') {
    if (job.hold === 'checkpoint') await holdForever();
    say(`paused ${JSON.stringify(outcome.checkpoint)}`);
  } else {
    if (job.hold === 'committed' && outcome.result.status === 'committed') await holdForever();
    const { error, ...result } = outcome.result;
    say(`done ${JSON.stringify({ ...result, ...(error ? { error: error.message } : {}) })}`);
  }
  await client.close();
}

await main();
