/**
 * What one invocation does, with every dependency injected: validate the event, work out each
 * stream's window, land it through the idempotency guard, log and measure each window.
 * The handler only wires AWS clients and Powertools into this.
 */

import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Context } from 'aws-lambda';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { streamSettleMs, streamWindowMs } from '../window/streamTiming.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import type { BudgetPlace } from '../budget/createRateBudget.js';
import type { RateBudget } from '../http/RateBudget.js';
import type { BudgetChange } from '../budget/SharedRateBudget.js';
import { createSourceClient } from '../engine/createSourceClient.js';
import { selectStreams } from '../engine/windowSelection.js';
import { ParentKeyCache } from '../engine/ParentKeyCache.js';
import { runWindow, type WindowResult } from '../engine/runWindow.js';
import { ApilakeError, InputError } from '../errors.js';
import type { HttpClient } from '../http/HttpClient.js';
import type { SecretProvider } from '../secrets/SecretProvider.js';
import { readWindowState } from '../sink/windowState.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { isAligned, isoSeconds, windowBefore, type TimeWindow } from '../window/TimeWindow.js';
import { formatDuration } from '../window/duration.js';
import { describeMisalignment, isoExact } from '../window/alignment.js';
import { METRIC } from '../commons/telemetry.js';
import { parseIngestEvent, type IngestEvent } from './event.js';

/** What an invocation needs. */
export interface IngestDeps {
  readonly source: SourceDefinition;
  readonly storage: LakeStorage;
  readonly secrets: SecretProvider;
  /** Idempotency records (DynamoDB in Lambda). */
  readonly persistenceStore: BasePersistenceLayer;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Stop starting pages when less than this remains of the invocation. */
  readonly deadlineMarginMs: number;
  /**
   * Abort any storage call still running when less than this remains, so the invocation ends
   * (and reports) before Lambda kills it. @default min(5 s, deadlineMarginMs / 2)
   */
  readonly hardDeadlineMarginMs?: number;
  readonly clock?: Clock;
  readonly fetch?: typeof fetch;
  /** Where the source's rate budget is kept (the budget table in Lambda), or the budget itself. @default this invocation only */
  readonly budget?: BudgetPlace | RateBudget;
}

/** The outcome of one stream window in an invocation. */
export interface StreamSummary {
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
  /**
   * `skipped`: committed before (or, `skip_reason: concurrent_commit`, by a concurrent run);
   * `duplicate`: an earlier delivery of this event already landed it.
   */
  readonly status: 'committed' | 'skipped' | 'failed' | 'duplicate';
  readonly skip_reason?: 'already_committed' | 'concurrent_commit';
  readonly records: number;
  readonly parts: number;
  readonly pages: number;
  readonly retries: number;
  readonly throttled: number;
  readonly bytes: number;
  readonly duration_ms: number;
  readonly run_id?: string;
  readonly warnings?: readonly string[];
  readonly error?: string;
}

/** What the function returns (and what `apilake backfill --remote` prints). */
export interface IngestSummary {
  readonly source: string;
  readonly trigger: 'scheduled' | 'window' | 'rejected';
  readonly streams: readonly StreamSummary[];
  readonly error?: string;
}

/** One or more windows failed; Lambda retries the invocation and, past its retries, sends it to the DLQ. */
export class WindowsFailedError extends ApilakeError {
  constructor(readonly summary: IngestSummary) {
    const failed = summary.streams.filter((s) => s.status === 'failed');
    super(`${failed.length} window(s) failed: ${failed.map((s) => `${s.stream} [${s.window.start}, ${s.window.end}): ${s.error}`).join('; ')}`, {
      context: { summary },
    });
    this.name = 'WindowsFailedError';
  }
}

/** A window failed inside the idempotent section: thrown so the idempotency record is released. */
class WindowFailure extends Error {
  constructor(readonly summary: StreamSummary) {
    super(summary.error);
  }
}

/** Idempotency records outlive any sane retry horizon; the manifest keeps guarding after that. */
export const IDEMPOTENCY_TTL_SECONDS = 24 * 3600;

/**
 * Runs one invocation.
 * @returns the summary; an invalid event is logged and rejected without an exception, since
 *   retrying it could never succeed.
 * @throws WindowsFailedError when a window failed (so Lambda retries, then dead-letters it).
 */
export async function ingest(rawEvent: unknown, context: Context, deps: IngestDeps): Promise<IngestSummary> {
  const { logger, metrics, source } = deps;
  const clock = deps.clock ?? systemClock;
  logger.appendKeys({ source: source.name });
  metrics.setDefaultDimensions({ source: source.name });

  const plan = planEvent(rawEvent, deps);
  if (plan.kind === 'rejected') return plan.summary;
  const { event, jobs } = plan;

  // Two deadlines: pages stop at the soft one; storage calls still running at the hard one are
  // aborted, so a stalled S3 call fails the window cleanly before Lambda kills the function.
  const remainingMs = context.getRemainingTimeInMillis();
  const hardMarginMs = deps.hardDeadlineMarginMs ?? Math.min(5_000, deps.deadlineMarginMs / 2);
  const controller = new AbortController();
  const storageController = new AbortController();
  const deadline = setTimeout(() => controller.abort(`less than ${deps.deadlineMarginMs} ms left of the invocation`), Math.max(0, remainingMs - deps.deadlineMarginMs));
  const hardDeadline = setTimeout(() => storageController.abort(`less than ${hardMarginMs} ms left of the invocation`), Math.max(0, remainingMs - hardMarginMs));
  deadline.unref?.();
  hardDeadline.unref?.();
  const signals = { signal: controller.signal, storageSignal: storageController.signal };

  let client: HttpClient | undefined;
  try {
    client = await createSourceClient(source, deps.secrets, { clock, fetch: deps.fetch, budget: deps.budget, onBudgetChange: (change) => reportBudget(change, deps) });
    const config = new IdempotencyConfig({ eventKeyJmesPath: '[source, stream, window.start, window.end]', expiresAfterSeconds: IDEMPOTENCY_TTL_SECONDS });
    config.registerLambdaContext(context);
    const streams: StreamSummary[] = [];
    // An invocation is one run: its windows share the keys of parents that do not depend on the window.
    const parents = new ParentKeyCache(signals.signal);
    for (const job of jobs) {
      const summary = await landOnce(job, event.kind === 'window' && event.force, { client, parents }, config, signals, deps, clock);
      report(summary, deps);
      streams.push(summary);
    }
    const result: IngestSummary = { source: source.name, trigger: event.kind, streams };
    if (streams.some((s) => s.status === 'failed')) throw new WindowsFailedError(result);
    return result;
  } finally {
    clearTimeout(deadline);
    clearTimeout(hardDeadline);
    // Lease releases still on their way must reach the budget before Lambda freezes the process.
    await client?.close();
  }
}

/** One log line when the shared budget cannot be reached (and the invocation keeps to its share), one when it can again. */
function reportBudget(change: BudgetChange, { logger }: IngestDeps): void {
  if (change.kind === 'shared') {
    logger.info('rate budget reachable again; requests draw on the shared budget');
    return;
  }
  logger.warn("rate budget unreachable; this invocation keeps to its share of the source's limits", { ...change });
}

/** A valid event and the windows it asks for, or the summary that rejects an invalid one. */
export type EventPlan =
  { readonly kind: 'planned'; readonly event: IngestEvent; readonly jobs: { stream: StreamDefinition; window: TimeWindow }[] } | { readonly kind: 'rejected'; readonly summary: IngestSummary };

/**
 * Parses an invocation's event and plans its windows. An invalid event is logged, counted and
 * answered with a rejected summary instead of an exception: retrying it could never succeed.
 * @throws what is not an InputError (a bug)
 */
export function planEvent(rawEvent: unknown, { logger, metrics, source }: IngestDeps): EventPlan {
  try {
    const event = parseIngestEvent(rawEvent);
    return { kind: 'planned', event, jobs: planJobs(source, event) };
  } catch (error) {
    if (!(error instanceof InputError)) throw error;
    logger.error('rejected invalid event; not retrying it', { error: error.message, event: summarizeEvent(rawEvent) });
    metrics.addMetric(METRIC.invalidEvents, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return { kind: 'rejected', summary: { source: source.name, trigger: 'rejected', streams: [], error: error.message } };
  }
}

/** The windows an event asks for, one per stream. @throws InputError */
export function planJobs(source: SourceDefinition, event: IngestEvent): { stream: StreamDefinition; window: TimeWindow }[] {
  if (event.source !== source.name) throw new InputError(`invalid event: this function lands source "${source.name}", not "${event.source}"`);
  if (event.kind === 'scheduled') {
    // A stream with `settle` lands the latest window that has settled by the tick, not the one that just ended.
    return selectStreams(source).map((stream) => ({ stream, window: windowBefore(event.scheduledTime, streamWindowMs(source, stream), streamSettleMs(stream)) }));
  }
  return selectStreams(source, event.stream).map((stream) => {
    const window = { start: event.start, end: event.end };
    const size = streamWindowMs(source, stream);
    if (!isAligned(window, size)) {
      // Keys are per window: an unaligned window would land the same records under other keys.
      throw new InputError(
        `invalid event: window [${isoExact(event.start)}, ${isoExact(event.end)}) is not one ${formatDuration(size)} window of stream "${stream.name}": it ${describeMisalignment(window, size)} (windows start at multiples of ${formatDuration(size)} since 1970-01-01T00:00Z)`,
      );
    }
    return { stream, window };
  });
}

async function landOnce(
  job: { stream: StreamDefinition; window: TimeWindow },
  force: boolean,
  { client, parents }: { client: HttpClient; parents: ParentKeyCache },
  config: IdempotencyConfig,
  signals: { signal: AbortSignal; storageSignal: AbortSignal },
  deps: IngestDeps,
  clock: Clock,
): Promise<StreamSummary> {
  const key = { source: deps.source.name, stream: job.stream.name, window: { start: isoSeconds(job.window.start), end: isoSeconds(job.window.end) } };
  let ran = false;
  const land = async (_payload: typeof key): Promise<StreamSummary> => {
    ran = true;
    const result = await runWindow({ source: deps.source, stream: job.stream, window: job.window, client, storage: deps.storage, force, ...signals, clock, parents });
    const summary = toSummary(result, client);
    if (result.status === 'failed') throw new WindowFailure(summary);
    return summary;
  };
  try {
    // A forced re-run is an explicit request to replace the window: it bypasses the guard.
    if (force) return await land(key);
    const summary = await makeIdempotent(land, { persistenceStore: deps.persistenceStore, config })(key);
    return ran ? summary : { ...summary, status: 'duplicate' };
  } catch (error) {
    if (error instanceof WindowFailure) return error.summary;
    const base = { stream: job.stream.name, window: key.window, records: 0, parts: 0, pages: 0, retries: 0, throttled: 0, bytes: 0, duration_ms: 0 };
    if (error instanceof IdempotencyAlreadyInProgressError) return inProgress(job, base, signals.storageSignal, deps);
    const cause = error instanceof Error && error.cause instanceof WindowFailure ? error.cause : undefined;
    if (cause) return cause.summary;
    return { ...base, status: 'failed', error: client.redactor.text(error instanceof Error ? error.message : String(error)) };
  }
}

/**
 * Another delivery holds the idempotency record of this window. If the window is committed that
 * is a duplicate. If not, the holder may have crashed (a timeout or OOM leaves the record in
 * progress until its expiry), so this delivery must fail: Lambda then retries it later, and past
 * its retries it reaches the dead-letter queue. Returning success here would lose the window.
 */
async function inProgress(job: { stream: StreamDefinition; window: TimeWindow }, base: Omit<StreamSummary, 'status'>, storageSignal: AbortSignal, deps: IngestDeps): Promise<StreamSummary> {
  const ref = { source: deps.source.name, stream: job.stream.name, window: job.window };
  try {
    const state = await readWindowState(deps.storage, ref, { signal: storageSignal });
    if (state.kind === 'committed') {
      return { ...base, status: 'duplicate', records: state.manifest.totals.records, parts: state.manifest.totals.parts, bytes: state.manifest.totals.bytes, run_id: state.manifest.run_id };
    }
  } catch (error) {
    return { ...base, status: 'failed', error: `another delivery is landing this window and its state cannot be read: ${(error as Error).message}` };
  }
  return {
    ...base,
    status: 'failed',
    error: 'another delivery holds this window (idempotency record in progress) and it is not committed yet; failing so Lambda retries later (the holder may have crashed)',
  };
}

/** A window's result as the function reports it, every message redacted. */
export function toSummary(result: WindowResult, client: HttpClient): StreamSummary {
  return {
    stream: result.stream,
    window: { start: isoSeconds(result.window.start), end: isoSeconds(result.window.end) },
    status: result.status,
    records: result.records,
    parts: result.parts,
    pages: result.pages,
    retries: result.retries,
    throttled: result.throttled,
    bytes: result.bytes,
    duration_ms: result.durationMs,
    run_id: result.runId,
    // The function lands, never curates: a skipped window was committed before or by a concurrent run.
    ...(result.skipReason && result.skipReason !== 'already_curated' ? { skip_reason: result.skipReason } : {}),
    ...(result.warnings ? { warnings: result.warnings.map((w) => client.redactor.text(w)) } : {}),
    ...(result.error ? { error: client.redactor.text(result.error.message) } : {}),
  };
}

/** One log line and one set of metrics per window. */
export function report(summary: StreamSummary, { logger, metrics }: IngestDeps): void {
  const { error, ...fields } = summary;
  if (summary.status === 'failed') logger.error('window failed', { ...fields, error });
  else logger.info(`window ${summary.status}`, fields);

  if (summary.status === 'duplicate') return; // counted by the delivery that ran it
  metrics.addDimensions({ stream: summary.stream });
  if (summary.status === 'committed') {
    metrics.addMetric(METRIC.windowsCommitted, MetricUnit.Count, 1);
    metrics.addMetric(METRIC.records, MetricUnit.Count, summary.records);
    metrics.addMetric(METRIC.bytes, MetricUnit.Bytes, summary.bytes);
  }
  if (summary.status === 'skipped') metrics.addMetric(METRIC.windowsSkipped, MetricUnit.Count, 1);
  if (summary.status === 'failed') metrics.addMetric(METRIC.windowsFailed, MetricUnit.Count, 1);
  if (summary.status !== 'skipped') {
    metrics.addMetric(METRIC.pages, MetricUnit.Count, summary.pages);
    metrics.addMetric(METRIC.retries, MetricUnit.Count, summary.retries);
    metrics.addMetric(METRIC.throttled, MetricUnit.Count, summary.throttled);
    metrics.addMetric(METRIC.windowDuration, MetricUnit.Milliseconds, summary.duration_ms);
  }
  metrics.publishStoredMetrics();
}

/** The shape of a rejected event for the log, without values that could be large or sensitive. */
export function summarizeEvent(event: unknown): unknown {
  if (event === null || typeof event !== 'object') return typeof event;
  return Object.fromEntries(
    Object.entries(event)
      .slice(0, 10)
      // A task token lets its holder answer the waiting Step Functions task: never logged.
      .map(([k, v]) => [k, k === 'taskToken' ? '***' : typeof v === 'string' ? v.slice(0, 80) : typeof v]),
  );
}
