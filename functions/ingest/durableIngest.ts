/**
 * What one durable execution does: the same event, windows and summary as `ingest`, but a window
 * that cannot finish before the invocation's deadline continues in the next invocation. Each
 * window is a sequence of durable steps:
 *
 * 1. `claim`: the idempotency guard (source + stream + window; windowClaim.ts): a second delivery of
 *    the event, in another execution, finds the window claimed and reports a duplicate, or takes
 *    the window over when the execution holding it has ended;
 * 2. `slice 0`, `slice 1`, …: each lands pages until the invocation's time runs short, stops at the
 *    next part boundary, and returns the window's checkpoint as the step's result. The decision to
 *    stop is taken inside the step and stored with its result, so a replay takes the same path;
 * 3. between slices, a one-second `wait` ends the invocation; the durable execution service invokes
 *    the function again, which replays the finished steps from their stored results (fetching and
 *    writing nothing again) and runs the next slice from the last checkpoint. A job stream's slice
 *    that pauses while its export job runs (jobWait.ts) is followed by a wait until the job's next
 *    poll instead, unbilled while it lasts; one that stops within the job's download is followed by
 *    the one-second wait, like any other;
 * 4. the slice that reaches the last page commits the window (one put-if-absent manifest);
 * 5. when a backfill's state machine waits for the window (the event's `taskToken`), `report`
 *    answers it: SendTaskSuccess with the summary, or SendTaskFailure. A step, so the answer is
 *    sent once, however often the execution is replayed.
 *
 * A slice killed mid-way (timeout, crash) has no result: its step runs again, from the same
 * checkpoint, in a later invocation, and the files it had written are orphans for gc.
 */

import type { DurableContext } from '@aws/durable-execution-sdk-js';
import type { Context } from 'aws-lambda';
import { systemClock, type Clock } from '../clock.js';
import type { StreamDefinition } from '../config/sourceSchema.js';
import { createSourceClient } from '../engine/createSourceClient.js';
import { runWindowSlice } from '../engine/runWindowSlice.js';
import type { WindowCheckpoint } from '../engine/WindowCheckpoint.js';
import { isJobDownload, isJobPoll } from '../engine/WindowCursor.js';
import { AbortedError, ApilakeError, PartTooSlowError } from '../errors.js';
import type { PartPace } from '../engine/landPages.js';
import type { HttpClient } from '../http/HttpClient.js';
import { readWindowState } from '../sink/windowState.js';
import { isoSeconds, type TimeWindow } from '../window/TimeWindow.js';
import { pausesForJob } from './jobWait.js';
import { sliceReserveMs } from './sliceReserve.js';
import { planEvent, report, toSummary, WindowsFailedError, type IngestDeps, type IngestSummary, type StreamSummary } from './ingest.js';
import { fitCause, type TaskReportOutcome, type TaskReports } from './TaskReports.js';
import { claimWindow, releaseWindow, takeOverIfEnded, type ClaimStore, type DurableExecutionStatusLookup, type WindowKey } from './windowClaim.js';

/** What a durable execution needs: an invocation's dependencies, and where a waiting task's answer goes. */
export interface DurableIngestDeps extends IngestDeps {
  /** The windows' claims (DynamoDB in Lambda): idempotency records, and the conditional delete of a take-over. */
  readonly persistenceStore: ClaimStore;
  /**
   * How the execution holding a window stands (GetDurableExecution in Lambda), so a window held by
   * one that has ended is taken over. @default none: such a window fails until its claim expires
   */
  readonly executionStatus?: DurableExecutionStatusLookup;
  /** Answers a backfill's waiting task (Step Functions in Lambda). Required for events with a `taskToken`. */
  readonly taskReports?: TaskReports;
}

/** How long the service waits before it invokes the function again for the next slice. */
const CONTINUE_AFTER_SECONDS = 1;
/** Tries of a slice that ran into its invocation's deadline before reaching a part boundary, or was killed. */
const SLICE_TRIES = 3;
/** Tries of the answer to a waiting task, when Step Functions fails or throttles (the SDK's own retries come first in each). */
const REPORT_TRIES = 6;
/** The step that answers a backfill's waiting task. */
export const REPORT_STEP = 'report to step functions';

/** A durable step's result for one slice: where the window stands, or how it ended. */
export type SliceStep = { readonly kind: 'paused'; readonly checkpoint: WindowCheckpoint; readonly pages: number } | { readonly kind: 'done'; readonly summary: StreamSummary };

/** A slice ran into the invocation's deadline before it reached a part boundary: its step is tried again. */
export class SliceDeadlineError extends ApilakeError {
  constructor(message: string) {
    super(message);
    this.name = 'SliceDeadlineError';
  }
}

/**
 * Runs one durable execution.
 * @returns the summary; an invalid event is logged and rejected without an exception. With a task
 *   token, also the summary of a failed window: the backfill's map has the failure reported to it
 *   and owns what follows (one more try, then the window is listed as not committed), so the
 *   execution does not fail too, which would have Lambda retry the event beside the map's own retry
 *   and put it in the on-failure destination for a redrive of a window the backfill already reports.
 * @throws WindowsFailedError when a window failed and no task waits for it (the execution fails; its event reaches the on-failure destination)
 */
export async function durableIngest(rawEvent: unknown, ctx: DurableContext, deps: DurableIngestDeps): Promise<IngestSummary> {
  const { logger, metrics, source } = deps;
  logger.appendKeys({ source: source.name });
  metrics.setDefaultDimensions({ source: source.name });
  // The event is the execution's input: the plan is the same on every replay.
  const plan = planEvent(rawEvent, deps);
  if (plan.kind === 'rejected') return plan.summary;
  const { event, jobs } = plan;
  const force = event.kind === 'window' && event.force === true;
  const invocation = new Invocation(ctx.lambdaContext, deps);
  try {
    const streams: StreamSummary[] = [];
    for (const job of jobs) streams.push(await landWindow(ctx, job, force, invocation, deps));
    const result: IngestSummary = { source: source.name, trigger: event.kind, streams };
    const failure = streams.some((s) => s.status === 'failed') ? new WindowsFailedError(result) : undefined;
    // A retry of the report step ends the invocation without settling the handler: what the
    // windows' steps reported (metrics, the client's lease releases) must not wait for it.
    await invocation.close();
    metrics.publishStoredMetrics();
    if (event.kind === 'window' && event.taskToken !== undefined) {
      const taskToken = event.taskToken;
      await ctx.step(REPORT_STEP, () => reportToTask(taskToken, result, failure, deps), {
        retryStrategy: (_error, attempt) => ({ shouldRetry: attempt < REPORT_TRIES, delay: { seconds: Math.min(60, 5 * 2 ** (attempt - 1)) } }),
      });
      return result;
    }
    if (failure) throw failure;
    return result;
  } finally {
    await invocation.close();
  }
}

/**
 * Answers the task waiting for the window: its summary, or WindowsFailedError with a cause naming
 * each failed window and its error (the same message the function's error carries). A token the
 * task no longer waits for is logged: the window's outcome is in the lake either way.
 */
async function reportToTask(taskToken: string, result: IngestSummary, failure: WindowsFailedError | undefined, deps: DurableIngestDeps): Promise<TaskReportOutcome> {
  if (!deps.taskReports) throw new ApilakeError('the event has a taskToken, but the function has no Step Functions client to answer it');
  const outcome = failure ? await deps.taskReports.fail(taskToken, failure.name, fitCause(failure.message)) : await deps.taskReports.succeed(taskToken, JSON.stringify(result));
  if (outcome === 'closed') {
    deps.logger.warn("the backfill no longer waits for this window's outcome (its task timed out or was answered); not reporting it", {
      outcome: failure ? 'failed' : 'landed',
      streams: result.streams.map((s) => ({ stream: s.stream, window: s.window.start, status: s.status })),
    });
  }
  return outcome;
}

/**
 * One window's steps: claim, slices, and the release of the claim when the window failed. A step
 * that fails for good (a slice out of tries, the claim's store or the source's secret unreachable)
 * fails the window like any other error: the claim is released and the window reported failed, so
 * the task waiting for it gets its answer and a later delivery lands it.
 */
async function landWindow(ctx: DurableContext, job: { stream: StreamDefinition; window: TimeWindow }, force: boolean, invocation: Invocation, deps: DurableIngestDeps): Promise<StreamSummary> {
  const key: WindowKey = { source: deps.source.name, stream: job.stream.name, window: { start: isoSeconds(job.window.start), end: isoSeconds(job.window.end) } };
  const name = `${key.stream} ${key.window.start}`;
  const execution = ctx.executionContext.durableExecutionArn;
  let claimed = false;
  try {
    // A forced re-run is an explicit request to replace the window: it bypasses the guard.
    if (!force) {
      const claim = await ctx.step(`claim ${name}`, () => claimOrReport(key, execution, ctx.lambdaContext, job, deps), {
        retryStrategy: (error, attempt) => ({ shouldRetry: error.name === 'ClaimInProgressError' && attempt < 40, delay: { seconds: 30 } }),
      });
      if (claim) return claim;
      claimed = true;
    }
    let checkpoint: WindowCheckpoint | undefined;
    for (let slice = 0; ; slice++) {
      const from = checkpoint;
      const step: SliceStep = await ctx.step(`${name} slice ${slice}`, () => invocation.slice(job, force, from), {
        retryStrategy: (error, attempt) => ({ shouldRetry: error.name === 'SliceDeadlineError' && attempt < SLICE_TRIES, delay: { seconds: CONTINUE_AFTER_SECONDS } }),
      });
      if (step.kind === 'done') {
        if (step.summary.status === 'failed' && claimed) await ctx.step(`release ${name}`, () => releaseWindow(key, execution, deps.persistenceStore));
        return step.summary;
      }
      checkpoint = step.checkpoint;
      // Ends this invocation: the service invokes the function again, which replays up to here and lands the next slice.
      await ctx.wait(`${name} continue ${slice}`, { seconds: continueAfterSeconds(step.checkpoint) });
    }
  } catch (error) {
    // The SDK's own unrecoverable errors (a replay that diverged, a checkpoint it cannot write) end the execution as they are.
    if (isUnrecoverable(error)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return await ctx.step(`fail ${name}`, async () => {
      if (claimed) await releaseWindow(key, execution, deps.persistenceStore);
      const summary: StreamSummary = { ...emptySummary(key), status: 'failed', error: message };
      report(summary, deps);
      return summary;
    });
  }
}

/** How long the service waits before the next slice: until a paused job's next poll, else a second. */
function continueAfterSeconds(checkpoint: WindowCheckpoint): number {
  const { next } = checkpoint;
  // A durable wait lasts whole seconds, at least one.
  return isJobPoll(next) ? Math.max(CONTINUE_AFTER_SECONDS, Math.ceil(next.pollInMs / 1000)) : CONTINUE_AFTER_SECONDS;
}

/** Whether the durable execution SDK marked an error as one no step of this execution can recover from. */
function isUnrecoverable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { isUnrecoverable?: unknown }).isUnrecoverable === true;
}

function emptySummary(key: { stream: string; window: { start: string; end: string } }): Omit<StreamSummary, 'status'> {
  return { stream: key.stream, window: key.window, records: 0, parts: 0, pages: 0, retries: 0, throttled: 0, bytes: 0, duration_ms: 0 };
}

/**
 * Claims the window for this execution (windowClaim.ts), taking it over from a holder that ended
 * without committing it. Returns undefined when it is this execution's, or the window's summary
 * when another execution has it: `duplicate` when that one committed it, else `failed` (it may
 * still land it), so no delivery reports a window landed that is not, and a later one (a redrive,
 * the map's retry) finds it committed or free.
 */
async function claimOrReport(key: WindowKey, execution: string, context: Context, job: { stream: StreamDefinition; window: TimeWindow }, deps: DurableIngestDeps): Promise<StreamSummary | undefined> {
  let claim = await claimWindow(key, execution, context, deps.persistenceStore);
  if (claim.kind === 'claimed') return undefined;
  const state = await readWindowState(deps.storage, { source: key.source, stream: key.stream, window: job.window }).catch(() => undefined);
  if (state?.kind !== 'committed') {
    claim = await takeOverIfEnded(key, claim.holder, execution, context, deps);
    if (claim.kind === 'claimed') return undefined;
  }
  const base = emptySummary(key);
  const summary: StreamSummary =
    state?.kind === 'committed'
      ? { ...base, status: 'duplicate', records: state.manifest.totals.records, parts: state.manifest.totals.parts, bytes: state.manifest.totals.bytes, run_id: state.manifest.run_id }
      : { ...base, status: 'failed', error: `execution ${claim.holder} holds this window and has not committed it yet; failing so a later delivery finds it committed or free` };
  report(summary, deps);
  return summary;
}

/** The error of a slice that reached no part boundary before its invocation's deadline: what to change. */
function partTooSlow(stream: StreamDefinition, deps: IngestDeps, remainingMs: number, pace: PartPace | undefined, cause: Error | undefined): PartTooSlowError {
  const filled = pace ? `after ${seconds(pace.currentPartMs)} the first part was still filling` : 'no page landed';
  return new PartTooSlowError(
    `the window's slice reached no part boundary in the ${seconds(remainingMs - deps.deadlineMarginMs)} its invocation had before its deadline (${filled}${cause instanceof AbortedError ? '' : `; ${cause?.message ?? 'stopped'}`}), ` +
      `so the window cannot progress from one invocation to the next: raise the function's timeout, or lower lake.part_size_mb (now ${deps.source.lake.part_size_mb}) so a part fills in a fifth of an invocation, ` +
      `or, if a single page takes that long, ask for smaller pages (the stream's page size parameter; max_page_mb is ${stream.max_page_mb})`,
    { context: { stream: stream.name, part_size_mb: deps.source.lake.part_size_mb, remaining_ms: remainingMs } },
  );
}

/**
 * The error of a job stream's slice that ran into its invocation's deadline before any page of its
 * download landed: the job's polls pause before they reach the slice's reserve, and the download
 * goes on in the next invocation after any part boundary or result file, so it was the first page
 * or file of the download (or a request of the job slower than its timeout) that did not end in time.
 */
function jobOutOfTime(stream: StreamDefinition, deps: IngestDeps, remainingMs: number, cause: Error | undefined): PartTooSlowError {
  const files = stream.job?.download.urls !== undefined;
  return new PartTooSlowError(
    `the window's job landed no page of its results in the ${seconds(remainingMs - deps.deadlineMarginMs)} its slice had before the invocation's deadline (${cause instanceof AbortedError ? 'stopped' : (cause?.message ?? 'stopped')}): ` +
      `the polls of a job wait across invocations and its download goes on from one invocation to the next, ${files ? 'a result file at a time, so each file' : 'a part at a time, so each page of results'} must download within one: raise the function's timeout, ` +
      (files ? "or make the stream's window smaller so each job exports less" : "or ask for smaller pages of results (the download's page size parameter, such as Salesforce's maxRecords)"),
    { context: { stream: stream.name, remaining_ms: remainingMs } },
  );
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** What the slices of one invocation share: its HTTP client, its deadlines. */
class Invocation {
  private client: Promise<HttpClient> | undefined;
  private readonly clock: Clock;

  constructor(
    private readonly context: Context,
    private readonly deps: IngestDeps,
  ) {
    this.clock = deps.clock ?? systemClock;
  }

  /** Lands one slice of a window. @throws SliceDeadlineError when the deadline came before a part boundary */
  async slice(job: { stream: StreamDefinition; window: TimeWindow }, force: boolean, checkpoint: WindowCheckpoint | undefined): Promise<SliceStep> {
    const { deps, context } = this;
    const remainingMs = context.getRemainingTimeInMillis();
    const hardMarginMs = deps.hardDeadlineMarginMs ?? Math.min(5_000, deps.deadlineMarginMs / 2);
    const controller = new AbortController();
    const deadlineReason = `less than ${deps.deadlineMarginMs} ms left of the invocation`;
    /** How the parts filled up to the last page landed. */
    let pace: PartPace | undefined;
    const storageController = new AbortController();
    const deadline = setTimeout(() => controller.abort(deadlineReason), Math.max(0, remainingMs - deps.deadlineMarginMs));
    const hardDeadline = setTimeout(() => storageController.abort(`less than ${hardMarginMs} ms left of the invocation`), Math.max(0, remainingMs - hardMarginMs));
    deadline.unref?.();
    hardDeadline.unref?.();
    try {
      this.client ??= createSourceClient(deps.source, deps.secrets, { clock: this.clock, fetch: deps.fetch, budget: deps.budget });
      const client = await this.client;
      const outcome = await runWindowSlice({
        source: deps.source,
        stream: job.stream,
        window: job.window,
        client,
        storage: deps.storage,
        force,
        clock: this.clock,
        signal: controller.signal,
        storageSignal: storageController.signal,
        ...(checkpoint ? { checkpoint } : {}),
        // Asked inside the step: the stop is stored with the step's result, and a replay follows it.
        stopWhen: (measured) => {
          pace = measured;
          const left = context.getRemainingTimeInMillis();
          // The deadline as the context tells it, between pages, whatever the timers do.
          if (left <= deps.deadlineMarginMs) controller.abort(deadlineReason);
          return left < sliceReserveMs({ sliceStartRemainingMs: remainingMs, deadlineMarginMs: deps.deadlineMarginMs, pace: measured });
        },
        // Asked inside the step too, before each wait for a job's next poll; the reserve is what the job's download keeps.
        pauseJobWhen: (waitMs) =>
          pausesForJob({
            waitMs,
            leftMs: context.getRemainingTimeInMillis(),
            reserveMs: sliceReserveMs({ sliceStartRemainingMs: remainingMs, deadlineMarginMs: deps.deadlineMarginMs, pace: { longestPartMs: undefined, currentPartMs: 0, boundaries: 0 } }),
            memoryMb: Number(context.memoryLimitInMB),
          }),
      });
      if (outcome.kind === 'paused') {
        deps.logger.info('window continues in the next invocation', {
          stream: job.stream.name,
          window: isoSeconds(job.window.start),
          slice: outcome.checkpoint.slices,
          pages: outcome.slicePages,
          parts: outcome.checkpoint.parts.length,
          ...(isJobPoll(outcome.checkpoint.next) ? { next_job_poll_in_ms: outcome.checkpoint.next.pollInMs } : {}),
          ...(isJobDownload(outcome.checkpoint.next) && outcome.checkpoint.next.file !== undefined ? { next_job_file: outcome.checkpoint.next.file } : {}),
        });
        // The wait that follows ends the invocation without settling its handler, so no `finally` of
        // durableIngest runs: the lease releases of a shared budget must reach it here, before Lambda
        // freezes the process.
        await this.close();
        return { kind: 'paused', checkpoint: outcome.checkpoint, pages: outcome.slicePages };
      }
      let result = outcome.result;
      if (result.status === 'failed' && controller.signal.aborted) {
        // A slice that ended a part knows a part fits in an invocation: this one was slower than the others, and a try from the checkpoint may pass.
        // The slowest part is carried from earlier slices: a part that ended in any slice of this window counts.
        if (pace && (pace.boundaries > 0 || pace.longestPartMs !== undefined)) {
          throw new SliceDeadlineError(
            `the invocation's deadline came before the slice reached a part boundary (the part had been filling for ${seconds(pace.currentPartMs)}, the slowest before it took ${seconds(pace.longestPartMs ?? 0)}): ${client.redactor.text(result.error?.message ?? 'stopped')}`,
          );
        }
        // No part ended in a whole invocation: every try would end the same way.
        result = { ...result, error: job.stream.job && !pace ? jobOutOfTime(job.stream, deps, remainingMs, result.error) : partTooSlow(job.stream, deps, remainingMs, pace, result.error) };
      }
      const summary = toSummary(result, client);
      report(summary, deps);
      return { kind: 'done', summary };
    } catch (error) {
      // A step tried again later ends this invocation without settling the handler, like a pause:
      // the client (and a shared budget's lease releases) must be closed here too.
      await this.close();
      throw error;
    } finally {
      clearTimeout(deadline);
      clearTimeout(hardDeadline);
    }
  }

  /** Closes the HTTP client; a later slice of this invocation opens a new one. */
  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    const client = await pending?.catch(() => undefined);
    await client?.close();
  }
}
