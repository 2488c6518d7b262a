/**
 * Lands one window's pages into its writer: each page's records go to the raw part as the API's
 * bytes and to the Parquet file, in one pass, in page order. A page too large to hold lands while
 * its body still arrives; both halves of it carry one extraction time.
 */

import type { Clock } from '../clock.js';
import type { SourceDefinition, StreamDefinition } from '../config/sourceSchema.js';
import { DecodingTally } from '../body/DecodingTally.js';
import type { RecordBatch } from '../body/RecordBatch.js';
import type { HttpClient, HttpStats } from '../http/HttpClient.js';
import type { RecordsMeta, WindowWriter, WrittenFiles } from '../sink/WindowWriter.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import type { JobContext } from './jobPages.js';
import type { ParentKeyCache } from './ParentKeyCache.js';
import { streamPages, type PageTally } from './streamPages.js';
import type { PagesCursor } from './WindowCursor.js';

/** What {@link landPages} needs. */
export interface LandPagesInput {
  readonly source: SourceDefinition;
  readonly stream: StreamDefinition;
  readonly window: TimeWindow;
  readonly client: HttpClient;
  readonly writer: WindowWriter;
  readonly clock: Clock;
  /** The window's request counters. */
  readonly stats: HttpStats;
  /** The window's page counters, read as they grow (a failed window reports how far it got). */
  readonly tally: PageTally;
  /** Stops paging between pages and aborts requests in flight. */
  readonly signal?: AbortSignal;
  readonly onPage?: (page: { index: number; records: number }) => void;
  /** A job stream's job record (streamPages.ts). */
  readonly job?: JobContext;
  /** The run's parent keys (parents paged once per run). @default paged for each window */
  readonly parents?: ParentKeyCache;
  /** Take up the window's pages where an earlier slice stopped (a window landed in slices; `pageAligned` writer). */
  readonly resume?: PagesCursor;
  /**
   * Asked after each page lands (a window landed in slices; `pageAligned` writer): once true, landing
   * stops at the next part boundary (right after a job's result file), and `next` says where the pages stand.
   */
  readonly stopWhen?: (pace: PartPace) => boolean;
  /** The longest time a part of this window took to fill in earlier slices, in ms. @default none measured */
  readonly longestPartMs?: number;
}

/**
 * How long the window's parts take to fill, by the clock: what a caller that must stop at a part
 * boundary before a deadline needs to know to stop in time.
 */
export interface PartPace {
  /** The longest time a whole part of this window took to fill so far, in ms (earlier slices' included); undefined before the first. */
  readonly longestPartMs: number | undefined;
  /** How long the current part has been filling, in ms (from the last part boundary, or from the start of landing). */
  readonly currentPartMs: number;
  /** Part boundaries reached since landing began. */
  readonly boundaries: number;
}

/** What the pages of a window came to. */
export interface LandedPages {
  readonly files: WrittenFiles;
  readonly decoding: DecodingTally;
  /** Records of the pages outside the window (`incremental`). */
  readonly filtered: number;
  /** Where the window's pages stand when landing stopped at a part boundary before their end (`stopWhen`). */
  readonly next?: PagesCursor;
  /** {@link PartPace.longestPartMs} when landing ended. */
  readonly longestPartMs?: number;
  /** How long the last part had been filling when landing ended, in ms: a window's last part ends with its pages, however little it holds. */
  readonly lastPartMs: number;
}

/** Lands every page, then finishes the writer's files. @throws what paging or writing threw */
export async function landPages(input: LandPagesInput): Promise<LandedPages> {
  const { writer, clock, tally } = input;
  const decoding = new DecodingTally();
  let filtered = 0;
  // Ends whatever paging is still in flight when landing ends early (a failure, an early stop of concurrent parents).
  const paging = new AbortController();
  const signal = input.signal ? AbortSignal.any([input.signal, paging.signal]) : paging.signal;
  const earlyMeta = new Map<number, RecordsMeta>();
  // A window landed in slices writes each page whole, in page order, so a part boundary falls between pages.
  const sliced = input.resume !== undefined || input.stopWhen !== undefined;
  // A job's result files still land as they arrive (a file may be gigabytes): its slices stop after a whole file, or
  // within a file that can be taken up there (a batch that says where its last line ends), wherever its parts end.
  const early = !sliced || input.stream.job?.download.urls !== undefined;
  let next: PagesCursor | undefined;
  // A slice starts at a part boundary (the window's start, or where the slice before it stopped).
  const pace = new PartClock(clock, input.longestPartMs);
  /** Where the result file being landed stands: just past its last record written, once one was (a file taken up within). */
  let inFile = input.resume && 'offset' in input.resume ? input.resume.offset : undefined;
  /** Writes a batch; false when the writer stopped at a part boundary before it. */
  const land = async (batch: RecordBatch, meta: RecordsMeta): Promise<boolean> => {
    if (batch.end === undefined) return writer.writeRecords(batch, meta);
    // A file that can be taken up within may end a part after any of its batches.
    writer.beginPage();
    const at = clock.now();
    const partsBefore = writer.finishedParts;
    const written = await writer.writeRecords(batch, meta);
    // A stop before the batch counts as a boundary where the page is handled.
    if (!written) return false;
    if (writer.finishedParts > partsBefore) pace.boundary(at);
    inFile = batch.end;
    if (input.stopWhen?.(pace.now())) writer.stopAtNextPart();
    return true;
  };
  const landEarly = async (index: number, batch: RecordBatch) => {
    let meta = earlyMeta.get(index);
    if (!meta) earlyMeta.set(index, (meta = { extractedAt: new Date(clock.now()) }));
    return land(batch, meta);
  };
  try {
    const pages = streamPages(
      {
        source: input.source,
        window: input.window,
        client: input.client,
        signal,
        stats: input.stats,
        tally,
        ...(early ? { landEarly } : {}),
        ...(input.resume ? { resume: input.resume } : {}),
        ...(input.job ? { job: input.job } : {}),
        ...(input.parents ? { parents: input.parents } : {}),
      },
      input.stream,
      () => tally.parents++,
    );
    /** Where the pages stood after the last page landed whole. */
    let after = input.resume;
    for await (const page of pages) {
      const arrivedAt = clock.now();
      const partsBefore = writer.finishedParts;
      const meta = page.parent ? { extractedAt: new Date(clock.now()), parent: page.parent.key.json } : (earlyMeta.get(page.page.index) ?? { extractedAt: new Date(clock.now()) });
      earlyMeta.delete(page.page.index);
      writer.beginPage();
      for (const batch of page.batches) if (!(await land(batch, meta))) break;
      // A part ended before this page: rolled over, or finished by a stop at the boundary.
      if (writer.hasStopped || writer.finishedParts > partsBefore) pace.boundary(arrivedAt);
      if (writer.hasStopped) {
        // The page waits for the next slice, which fetches it again, or the rest of it (it counts once, where it ends).
        tally.pages--;
        const within = inFile !== undefined && page.within ? page.within(inFile) : undefined;
        // The rest of a file taken up within is read from its offset on: what decoding found in the part read here counts now.
        if (within) decoding.add(page.page.response.stats);
        next = within ?? after;
        break;
      }
      inFile = undefined;
      decoding.add(page.page.response.stats);
      filtered += page.filtered;
      input.onPage?.({ index: page.page.index, records: page.records });
      if (sliced) {
        // Read now: it stays valid only until the next page is asked for.
        after = page.cursor?.();
        // A result file's end is a place to stop: the file after it is then never fetched twice.
        if (page.wholeFile) pace.boundary(clock.now());
        if (input.stopWhen?.(pace.now())) {
          if (!page.wholeFile) writer.stopAtNextPart();
          else if (after) {
            next = after;
            break;
          }
        }
      }
    }
  } finally {
    paging.abort('the window has finished paging');
  }
  const { longestPartMs, currentPartMs } = pace.now();
  return { files: await writer.finish(), decoding, filtered, ...(next ? { next } : {}), ...(longestPartMs === undefined ? {} : { longestPartMs }), lastPartMs: currentPartMs };
}

/** Measures the time between part boundaries. */
class PartClock {
  private longest: number | undefined;
  private boundaries = 0;
  private partStart: number;

  constructor(
    private readonly clock: Clock,
    longestPartMs: number | undefined,
  ) {
    this.longest = longestPartMs;
    this.partStart = clock.now();
  }

  /** A part ended at `at` (epoch ms). */
  boundary(at: number): void {
    const took = Math.max(0, at - this.partStart);
    this.longest = Math.max(this.longest ?? 0, took);
    this.boundaries++;
    this.partStart = at;
  }

  now(): PartPace {
    return { longestPartMs: this.longest, currentPartMs: Math.max(0, this.clock.now() - this.partStart), boundaries: this.boundaries };
  }
}
