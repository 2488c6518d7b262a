/** Human-readable figures and result tables for the terminal. */

import { isAbsolute, relative } from 'node:path';
import { describeWindow, type WindowResult } from '../functions/index.js';
import type { WindowOutcome, WindowTally } from './progress/WindowTally.js';

/** `1536` → `1.5 KiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** A path as the user sees it: relative to the working folder when inside it, else as given. */
export function shownPath(path: string): string {
  const shown = relative('.', path);
  return shown === '' ? '.' : shown.startsWith('..') || isAbsolute(shown) ? path : shown;
}

/** Said when a range holds no complete window: only windows that have ended are landed. */
export const NO_WINDOW = '  no complete window in the requested range (a window is landed once it has ended)';

/** `3 pages`, `1 page`, with thousands separators. */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? word : words}`;
}

/** One line per finished window. `redact` masks secrets in error text. */
export function formatWindowLine(result: WindowResult, redact: (text: string) => string = (t) => t, outcome: WindowOutcome = result.status): string {
  const where = `${result.stream} ${describeWindow(result.window)}`;
  const time = `${(result.durationMs / 1000).toFixed(1)} s`;
  // A window that did not commit landed nothing: its line shows the work done, not records.
  const work = `${plural(result.pages, 'page')}, ${plural(result.retries, 'retry', 'retries')}`;
  switch (outcome) {
    case 'skipped':
      if (result.skipReason === 'already_curated') return `  - ${where} already has its table (${plural(result.records, 'record')}); --curate-only --force rebuilds it from the raw parts`;
      // The work of a window another run committed first is shown: its requests were spent all the same.
      if (result.skipReason === 'concurrent_commit') {
        // Curating fetches nothing: only a landing has work of its own to show.
        const fetched = result.pages > 0 ? ` after this one had fetched ${work}; its parts are removed` : '';
        return `  - ${where} committed by a concurrent run (${plural(result.records, 'record')})${fetched}`;
      }
      return `  - ${where} already committed (${plural(result.records, 'record')}); --force re-runs it`;
    case 'committed':
      return `  ✓ ${where} ${plural(result.records, 'record')}, ${work}, ${plural(result.parts, 'part')} (${formatBytes(result.bytes)}), ${time}`;
    case 'interrupted':
      return `  ! ${where} interrupted after ${work}, ${time}; nothing of it is visible`;
    case 'not_started':
      return `  · ${where} not started`;
    case 'failed':
      return `  ✗ ${where} FAILED after ${work}, ${time}: ${redact(result.error?.message ?? 'unknown error')}`;
  }
}

/**
 * The closing summary of a run. Its pages and retries are the sums of the per-window lines:
 * every window that ran counts, landed or not; records and bytes count only what landed.
 * Throttled responses (429, a rate-limit 403, a rule's retry) are a count of their own, not a share of
 * the retries: a throttled answer that exhausts the attempts is counted but never retried.
 */
export function formatSummary(source: string, tally: WindowTally, location: string): string {
  const { counts } = tally;
  const { records, bytes, pages, retries, throttled } = tally.totals;
  const stopped = [counts.interrupted > 0 ? `, ${counts.interrupted} interrupted` : '', counts.not_started > 0 ? `, ${counts.not_started.toLocaleString('en')} not started` : ''].join('');
  return (
    `${source}: ${counts.committed} committed, ${counts.skipped} skipped, ${counts.failed} failed${stopped} · ` +
    `${plural(records, 'record')} landed (${formatBytes(bytes)}) · ${plural(pages, 'page')}, ${plural(retries, 'retry', 'retries')}, ${plural(throttled, 'throttled response')} → ${location}`
  );
}

/** After a stop signal (Ctrl-C, SIGTERM, SIGHUP): the windows left for the next run, as one line. Undefined when nothing was left. */
export function formatStopped(tally: WindowTally): string | undefined {
  const { not_started: notStarted, interrupted } = tally.counts;
  if (notStarted === 0 && interrupted === 0) return undefined;
  const parts = [
    notStarted > 0 ? `${plural(notStarted, 'window')} not started` : '',
    interrupted > 0 ? `${plural(interrupted, 'window')} interrupted in flight (nothing of ${interrupted === 1 ? 'it' : 'them'} is visible)` : '',
  ].filter(Boolean);
  return `${parts.join(', ')}; re-run the same command to continue`;
}

/** The failed windows and why, one entry each (wrapped by the output on a terminal). */
export function formatFailures(failures: readonly WindowResult[], redact: (text: string) => string = (t) => t): string[] {
  return failures.map((r) => `  ✗ ${r.stream} ${describeWindow(r.window)}: ${redact(r.error?.message ?? 'unknown error')}`);
}

/** Renders rows as an aligned text table. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map(cellText));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i]!))
      .join(' │ ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  return [line(columns), rule, ...cells.map(line), `(${plural(rows.length, 'row')})`].join('\n');
}

function cellText(value: unknown): string {
  return valueText(value, 'NULL');
}

/** A value of a result row as text: a scalar as it is written, an object or a list as its JSON, `null` and `undefined` as `nullText`. */
export function valueText(value: unknown, nullText: string): string {
  switch (typeof value) {
    case 'undefined':
      return nullText;
    case 'string':
      return value;
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'symbol':
      return String(value);
    case 'function':
      return '[function]';
    default:
      return value === null ? nullText : JSON.stringify(value);
  }
}
