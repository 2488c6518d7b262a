/**
 * Runs one stream over one window: skip if committed, page through the API, stream envelope
 * lines into parts, commit with a manifest; on any failure remove what the attempt wrote.
 */

import { randomUUID } from 'node:crypto';
import { systemClock, type Clock } from '../clock.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { AbortedError, ApilakeError, InputError } from '../errors.js';
import type { HttpClient, HttpStats } from '../http/HttpClient.js';
import { createPaginationStrategy } from '../pagination/createPaginationStrategy.js';
import { paginate } from '../pagination/paginate.js';
import type { PageContext, PageRequest } from '../pagination/PaginationStrategy.js';
import { stringifyJson } from '../records/preciseJson.js';
import { selectRecords } from '../records/selectRecords.js';
import type { LakeStorage } from '../sink/LakeStorage.js';
import { envelopeLines, manifestKey, type WindowRef } from '../sink/lakeLayout.js';
import { buildManifest, parseManifest } from '../sink/manifest.js';
import { WindowWriter } from '../sink/WindowWriter.js';
import { describeWindow, type TimeWindow } from '../window/TimeWindow.js';
import { buildFirstRequest } from './buildRequest.js';

/** What a window run needs. */
export interface WindowRunInput {
  readonly source: SourceDefinition;
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
  readonly client: HttpClient;
  readonly storage: LakeStorage;
  /** Re-run a committed window. @default false */
  readonly force?: boolean;
  /** Stops the window between pages (deadline, Ctrl-C); it then fails cleanly. */
  readonly signal?: AbortSignal;
  /** @default systemClock */
  readonly clock?: Clock;
  /** @default a random UUID */
  readonly runId?: string;
  /** Called after each page lands in the writer. */
  readonly onPage?: (page: { index: number; records: number }) => void;
}

/** The outcome of one window, also what progress lines and metrics report. */
export interface WindowResult {
  readonly source: string;
  readonly stream: string;
  readonly window: TimeWindow;
  readonly status: 'committed' | 'skipped' | 'failed';
  readonly records: number;
  readonly pages: number;
  readonly parts: number;
  /** Compressed bytes landed. */
  readonly bytes: number;
  readonly requests: number;
  readonly retries: number;
  readonly throttled: number;
  readonly durationMs: number;
  readonly manifestKey: string;
  readonly runId: string;
  readonly error?: ApilakeError | Error;
}

/** Runs one window. Never throws for a failed window: the result says `failed` and why. */
export async function runWindow(input: WindowRunInput): Promise<WindowResult> {
  const { source, stream, window, storage, client } = input;
  const clock = input.clock ?? systemClock;
  const runId = input.runId ?? randomUUID();
  const ref: WindowRef = { source: source.name, stream: stream.name, window };
  const startedAt = new Date(clock.now());
  const stats: HttpStats = { requests: 0, retries: 0, throttled: 0, bytes: 0 };
  let pages = 0;
  const result = (status: WindowResult['status'], extra: Partial<WindowResult> = {}): WindowResult => ({
    source: source.name,
    stream: stream.name,
    window,
    status,
    records: 0,
    pages,
    parts: 0,
    bytes: 0,
    requests: stats.requests,
    retries: stats.retries,
    throttled: stats.throttled,
    durationMs: clock.now() - startedAt.getTime(),
    manifestKey: manifestKey(ref),
    runId,
    ...extra,
  });

  if (window.end.getTime() > clock.now()) {
    // Committing a window that is still open would lose whatever arrives after now: it would be skipped as done.
    return result('failed', { error: new InputError(`window ${describeWindow(window)} has not ended yet; only complete windows are landed`) });
  }
  const existing = await storage.read(manifestKey(ref));
  if (existing && !input.force) {
    const manifest = parseManifest(existing, manifestKey(ref));
    return result('skipped', { records: manifest.totals.records, parts: manifest.totals.parts, bytes: manifest.totals.bytes, runId: manifest.run_id });
  }
  // A forced re-run un-commits first, so a crash mid-way never leaves a manifest describing replaced parts.
  if (existing) await storage.delete([manifestKey(ref)]);

  const writer = new WindowWriter(storage, ref, { partSizeBytes: Math.round(source.lake.part_size_mb * 1024 * 1024) });
  const describe = (request: PageRequest) => `${stream.method} ${client.redactor.url(request.url)}`;
  try {
    const fetchPage = async (request: PageRequest, index: number): Promise<PageContext> => {
      if (input.signal?.aborted) throw new AbortedError(String(input.signal.reason ?? 'aborted'));
      const label = `page ${index + 1}`;
      const response = await client.requestJson(
        { method: stream.method, url: request.url, body: request.body, headers: stream.headers, label },
        { signal: input.signal, stats },
      );
      const records = selectRecords(response.body, stream.records, index + 1, `${label}, ${describe(request)}`);
      return { request, response, records, index };
    };
    const pageStream = paginate({
      strategy: createPaginationStrategy(stream.pagination),
      first: buildFirstRequest(source, stream, window),
      fetchPage,
      stopWhen: stream.pagination.stop_when,
      maxPages: stream.pagination.max_pages,
      concurrency: source.rate_limit.concurrency,
      describe,
    });
    for await (const page of pageStream) {
      pages++;
      const serialize = (record: unknown) => stringifyJson(record, page.response.precise);
      await writer.writeLines(envelopeLines(ref, { runId, extractedAt: new Date(clock.now()) }, page.records, serialize));
      input.onPage?.({ index: page.index, records: page.records.length });
    }
    const manifest = await writer.commit((parts) =>
      buildManifest({ ref, runId, startedAt, committedAt: new Date(clock.now()), parts, pages, ...stats }),
    );
    return result('committed', { records: manifest.totals.records, parts: manifest.totals.parts, bytes: manifest.totals.bytes });
  } catch (error) {
    const failure = error instanceof Error ? error : new Error(String(error));
    try {
      await writer.abort(failure);
    } catch (cleanupError) {
      return result('failed', { error: new ApilakeError(`${failure.message}; and cleanup failed: ${(cleanupError as Error).message}`, { cause: failure }) });
    }
    return result('failed', { error: failure });
  }
}
