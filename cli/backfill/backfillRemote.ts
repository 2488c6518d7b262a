/**
 * Remote backfill: one synchronous invocation of the deployed function per stream window, at
 * most N in flight, each window's outcome read from the function's summary.
 */

import type { LambdaClient } from '@aws-sdk/client-lambda';
import {
  AbortedError,
  ApilakeError,
  forEachWindow,
  type ForEachWindowInput,
  type IngestSummary,
  isoSeconds,
  type StreamDefinition,
  type StreamSummary,
  type TimeWindow,
  type WindowResult,
} from '../../functions/index.js';
import { invokeFunction, parseJsonOrUndefined } from '../remote/invokeFunction.js';

/** What a remote backfill needs. */
export interface RemoteBackfillInput extends ForEachWindowInput<WindowResult> {
  readonly functionName: string;
  readonly lambda: LambdaClient;
  /** Invocations in flight at once. */
  readonly concurrency: number;
  readonly force?: boolean;
}

/** The backfill event of one stream window (the Lambda event contract, docs/deploy.md). */
export function backfillEvent(source: string, stream: string, window: TimeWindow, force: boolean) {
  return { source, stream, window: { start: isoSeconds(window.start), end: isoSeconds(window.end) }, ...(force ? { force: true } : {}) };
}

/** Invokes the function for every window; failures are results, not exceptions. */
export async function backfillRemote(input: RemoteBackfillInput): Promise<WindowResult[]> {
  return forEachWindow(
    input,
    ({ stream, window }) => invokeWindow(input, stream, window),
    ({ stream, window }) => ({ ...noWork(input, stream, window), status: 'failed', durationMs: 0, error: new AbortedError('interrupted before it started') }),
  );
}

/** A window's result before anything was landed. */
function noWork(input: RemoteBackfillInput, stream: StreamDefinition, window: TimeWindow): Omit<WindowResult, 'status' | 'durationMs'> {
  return { source: input.source.name, stream: stream.name, window, records: 0, pages: 0, parts: 0, bytes: 0, requests: 0, retries: 0, throttled: 0, manifestKey: '', runId: '' };
}

async function invokeWindow(input: RemoteBackfillInput, streamDefinition: StreamDefinition, window: TimeWindow): Promise<WindowResult> {
  const started = Date.now();
  const stream = streamDefinition.name;
  const base = noWork(input, streamDefinition, window);
  const failed = (error: Error): WindowResult => ({ ...base, status: 'failed', durationMs: Date.now() - started, error });
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
