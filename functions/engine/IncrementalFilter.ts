/**
 * Client-side incremental filtering (`incremental`): keeps the records of a page whose cursor
 * value lies in the window, says when paging may stop (records sorted `asc` have passed the
 * window's end, `desc` its start), and checks that the API keeps the order it was declared to
 * have, since stopping early on a wrong order would lose records without a trace.
 */

import { isLosslessNumber } from 'lossless-json';
import type { IncrementalConfig } from '../config/sourceSchema.js';
import { RecordFieldError } from '../errors.js';
import type { TimeWindow } from '../window/TimeWindow.js';
import { FORM_NAMES, isPlausibleInstant, parseTimestamp, type TimestampSpec } from '../window/parseTimestamp.js';
import { compileTimeFormat } from '../window/timeFormat.js';
import type { RecordBatch } from '../body/RecordBatch.js';
import { compilePath } from '../expressions/compilePath.js';

/** What a page holds for the window. */
export interface PageSelection {
  /** The records in the window, as slices of the page's batches (no bytes copied). */
  readonly batches: readonly RecordBatch[];
  /** Position in the page (0-based) of each kept batch's first record. */
  readonly offsets: readonly number[];
  readonly kept: number;
  /** Records outside the window, dropped. */
  readonly filtered: number;
  /** Paging may stop after this page: `asc` saw a record at or after the end, `desc` one before the start. */
  readonly pastWindow: boolean;
  /** Cursor instants (epoch ms) of the page's first and last records, for the order check across pages. */
  readonly first?: number;
  readonly last?: number;
}

/** The last record's cursor instant (epoch ms) of the pages followed so far, and the page it was on. */
export interface FilterPosition {
  readonly at: number;
  readonly label: string;
}

/** Where a page came from, for error messages: `page 3` (or `page 3 for repo="x"`) and the redacted request. */
export interface PageOrigin {
  readonly label: string;
  readonly request: string;
}

/** Splits pages by a cursor field against one window; one instance per sequence of pages (per parent). */
export class IncrementalFilter {
  private readonly read: (record: unknown) => unknown;
  private readonly spec: TimestampSpec;
  private readonly start: number;
  private readonly end: number;
  /** The last cursor of the pages followed so far, in page order. */
  private previous: FilterPosition | undefined;

  /**
   * @param timeZone the source's `timezone`: cursor text read with `incremental.format` that carries no offset is in it
   * @param after where the pages followed before stood, for pages continued from a checkpoint
   * @throws Error when `incremental.format` does not compile (checkSource reports it first)
   */
  constructor(
    private readonly config: IncrementalConfig,
    window: TimeWindow,
    private readonly timeZone = 'UTC',
    after?: FilterPosition,
  ) {
    this.read = compilePath(config.cursor_field);
    const format = config.format === undefined ? undefined : compileTimeFormat(config.format);
    if (format && !format.ok) throw new Error(`incremental.format: ${format.message}; checkSource should have caught this`);
    this.spec = { unit: config.unit, format: format?.format, timeZone };
    this.start = window.start.getTime();
    this.end = window.end.getTime();
    this.previous = after;
  }

  /** Where the order check stands after the pages followed so far, as JSON; undefined before any record. */
  get position(): FilterPosition | undefined {
    return this.previous;
  }

  /**
   * The records of a page (its `batches`) in `[start, end)`. Depends on the page alone, so pages
   * fetched concurrently can be selected as they arrive.
   * @throws RecordFieldError for a record whose cursor is missing, unparseable, or out of the declared order within the page
   */
  select(page: readonly RecordBatch[], origin: PageOrigin): PageSelection {
    const batches: RecordBatch[] = [];
    const offsets: number[] = [];
    const keep = (batch: RecordBatch, at: number) => {
      batches.push(batch);
      offsets.push(at);
    };
    let kept = 0;
    let filtered = 0;
    let pastWindow = false;
    let first: number | undefined;
    let last: number | undefined;
    let position = 0;
    for (const batch of page) {
      const base = position;
      let run = -1; // start of the current run of kept records
      for (let i = 0; i < batch.count; i++) {
        position++;
        const at = this.instantOf(batch.value(i), position, origin);
        if (last !== undefined && this.outOfOrder(last, at)) {
          throw this.orderError(`record ${position} has ${iso(at)} after record ${position - 1}'s ${iso(last)}`, origin);
        }
        first ??= at;
        last = at;
        if (this.config.order === 'asc' && at >= this.end) pastWindow = true;
        if (this.config.order === 'desc' && at < this.start) pastWindow = true;
        if (at >= this.start && at < this.end) {
          if (run < 0) run = i;
          kept++;
        } else {
          if (run >= 0) keep(batch.slice(run, i), base + run);
          run = -1;
          filtered++;
        }
      }
      if (run >= 0) keep(run === 0 ? batch : batch.slice(run), base + run);
    }
    return { batches, offsets, kept, filtered, pastWindow, ...(first === undefined ? {} : { first, last }) };
  }

  /**
   * Checks a selected page against the pages before it. Call once per page, in page order.
   * @throws RecordFieldError when the page starts out of the declared order
   */
  follow(selection: PageSelection, origin: PageOrigin): void {
    if (selection.first === undefined) return;
    if (this.previous && this.outOfOrder(this.previous.at, selection.first)) {
      throw this.orderError(`its record 1 has ${iso(selection.first)} after ${iso(this.previous.at)}, the last of ${this.previous.label}`, origin);
    }
    this.previous = { at: selection.last!, label: origin.label };
  }

  /**
   * The cursor instant of a record. A value that is no timestamp, or one outside 1970–2200 (an
   * epoch in another unit, a sentinel such as 0001-01-01), fails the window: filtering it would
   * drop the record from every window without a trace.
   */
  private instantOf(record: unknown, position: number, origin: PageOrigin): number {
    const raw = this.read(record);
    const read = parseTimestamp(raw, this.spec);
    if (read !== undefined && isPlausibleInstant(read.ms)) return read.ms;
    const where = `${origin.label}, record ${position}: incremental.cursor_field "${this.config.cursor_field}"`;
    const unit = this.config.unit ?? this.spec.format?.epochUnit;
    const text = read === undefined || !(read.form in EPOCH_FORMS);
    if (read === undefined) {
      const found = raw === null ? 'is missing (or null)' : `is ${describe(raw)}`;
      throw new RecordFieldError(`${where} ${found}; expected ${this.expected()} (a record without a usable cursor is never dropped silently)`, origin.request);
    }
    const how = text || unit !== undefined ? FORM_NAMES[read.form] : `${FORM_NAMES[read.form]} by its magnitude`;
    const hint = text ? '' : unit === undefined ? '; if the API sends another unit, declare it with incremental.unit (s, ms, us or ns)' : '; check incremental.unit';
    throw new RecordFieldError(`${where} is ${describe(raw)}, read as ${how} ${iso(read.ms)}, outside 1970–2200 where a cursor must lie${hint} (a record is never dropped silently)`, origin.request);
  }

  /** What a cursor may be, for messages. */
  private expected(): string {
    const format = this.spec.format;
    if (format?.epochUnit) return `an epoch number in ${format.epochUnit} (incremental.format ${format.text})`;
    if (format) return `text in incremental.format "${format.text}"${format.utc || format.hasOffset ? '' : ` (read in ${this.timeZone})`}`;
    const unit = this.config.unit;
    return `ISO 8601 or RFC 2822 text or ${unit === undefined ? 'an epoch number in s, ms, us or ns' : `an epoch number in ${unit} (incremental.unit)`}`;
  }

  private outOfOrder(before: number, after: number): boolean {
    return this.config.order === 'asc' ? after < before : this.config.order === 'desc' ? after > before : false;
  }

  private orderError(what: string, origin: PageOrigin): RecordFieldError {
    const order = this.config.order === 'asc' ? 'ascending' : 'descending';
    return new RecordFieldError(
      `${origin.label}: ${what}, so the API does not return records in ${order} order of incremental.cursor_field "${this.config.cursor_field}"; ` +
        `order: ${this.config.order} stops paging early, which on another order could lose records: fix the request's sort or set order: none`,
      origin.request,
    );
  }
}

/** The forms of epoch numbers (as opposed to text). */
const EPOCH_FORMS = { s: true, ms: true, us: true, ns: true } as const;

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A short rendering of an unusable value (never a whole record): text quoted, a number as the API wrote it. */
function describe(value: unknown): string {
  const text = isLosslessNumber(value)
    ? value.toString()
    : typeof value === 'string'
      ? JSON.stringify(value)
      : Array.isArray(value)
        ? 'an array'
        : typeof value === 'object'
          ? 'an object'
          : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
