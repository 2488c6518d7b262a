/**
 * Remote backfill: one synchronous invocation of the deployed function per stream window, at
 * most N in flight, each window's outcome read from the function's summary.
 */

import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  AbortedError,
  ApilakeError,
  ConcurrencyLimiter,
  type IngestSummary,
  isoSeconds,
  selectStreams,
  type SourceDefinition,
  type StreamDefinition,
  type StreamSummary,
  type TimeWindow,
  type WindowResult,
  type WindowSelection,
  windowsFor,
} from '../../functions/index.js';
import { invokeFunction, parseJsonOrUndefined } from '../remote/invokeFunction.js';

/** What a remote backfill needs. */
export interface RemoteBackfillInput {
  readonly source: SourceDefinition;
  readonly stream?: string;
  readonly selection: WindowSelection;
  readonly functionName: string;
  readonly lambda: LambdaClient;
  readonly concurrency: number;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  /** Called when a window's invocation starts (never for windows skipped after an interrupt). */
  readonly onWindowStart?: (stream: StreamDefinition, window: TimeWindow) => void;
  readonly onWindowEnd?: (result: WindowResult) => void;
}

/** The backfill event of one stream window (the Lambda event contract, docs/deploy.md). */
export function backfillEvent(source: string, stream: string, window: TimeWindow, force: boolean) {
  return { source, stream, window: { start: isoSeconds(window.start), end: isoSeconds(window.end) }, ...(force ? { force: true } : {}) };
}

/** Invokes the function for every window; failures are results, not exceptions. */
export async function backfillRemote(input: RemoteBackfillInput): Promise<WindowResult[]> {
  const jobs = selectStreams(input.source, input.stream).flatMap((stream) => windowsFor(input.source, stream, input.selection).map((window) => ({ stream, window })));
  const limiter = new ConcurrencyLimiter(input.concurrency);
  return Promise.all(
    jobs.map((job) =>
      limiter.run(async () => {
        const result = await invokeWindow(input, job.stream, job.window);
        input.onWindowEnd?.(result);
        return result;
      }),
    ),
  );
}

async function invokeWindow(input: RemoteBackfillInput, streamDefinition: StreamDefinition, window: TimeWindow): Promise<WindowResult> {
  const started = Date.now();
  const stream = streamDefinition.name;
  const base = {
    source: input.source.name,
    stream,
    window,
    records: 0,
    pages: 0,
    parts: 0,
    bytes: 0,
    requests: 0,
    retries: 0,
    throttled: 0,
    manifestKey: '',
    runId: '',
  };
  const failed = (error: Error): WindowResult => ({ ...base, status: 'failed', durationMs: Date.now() - started, error });
  if (input.signal?.aborted) return failed(new AbortedError('interrupted before it started'));
  input.onWindowStart?.(streamDefinition, window);
  try {
    const { payload, functionError } = await invokeFunction(input.lambda, input.functionName, backfillEvent(input.source.name, stream, window, input.force ?? false));
    if (functionError) return failed(new ApilakeError(`${functionError.type}: ${functionError.message}`));
    const summary = parseJsonOrUndefined(payload) as IngestSummary | undefined;
    if (!summary || summary.trigger === 'rejected') return failed(new ApilakeError(`the function rejected the event: ${summary?.error ?? payload.slice(0, 300)}`));
    const own = summary.streams.find((s) => s.stream === stream);
    if (!own) return failed(new ApilakeError(`the function's summary has no stream "${stream}"`));
    return fromSummary(base, own, Date.now() - started);
  } catch (error) {
    return failed(new ApilakeError(`invoking ${input.functionName} failed: ${(error as Error).message}`, { cause: error }));
  }
}

function fromSummary(base: Omit<WindowResult, 'status' | 'durationMs'>, summary: StreamSummary, elapsedMs: number): WindowResult {
  // A duplicate delivery means another invocation landed the window.
  const status = summary.status === 'committed' ? 'committed' : summary.status === 'failed' ? 'failed' : 'skipped';
  return {
    ...base,
    status,
    records: summary.records,
    pages: summary.pages,
    parts: summary.parts,
    bytes: summary.bytes,
    retries: summary.retries,
    throttled: summary.throttled,
    durationMs: summary.duration_ms || elapsedMs,
    runId: summary.run_id ?? '',
    ...(summary.error ? { error: new ApilakeError(summary.error) } : {}),
  };
}
