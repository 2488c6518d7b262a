/** Human-readable figures and result tables for the terminal. */

import { describeWindow, type WindowResult } from '../functions/index.js';

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

function plural(n: number, word: string, words = `${word}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? word : words}`;
}

/** One progress line per finished window. `redact` masks secrets in error text. */
export function formatWindowLine(result: WindowResult, redact: (text: string) => string = (t) => t): string {
  const where = `${result.stream} ${describeWindow(result.window)}`;
  if (result.status === 'skipped') return `  - ${where} already committed (${plural(result.records, 'record')}); --force re-runs it`;
  const figures = `${plural(result.records, 'record')}, ${plural(result.pages, 'page')}, ${plural(result.retries, 'retry', 'retries')}`;
  const time = `${(result.durationMs / 1000).toFixed(1)} s`;
  if (result.status === 'failed') return `  ✗ ${where} FAILED after ${figures}, ${time}: ${redact(result.error?.message ?? 'unknown error')}`;
  return `  ✓ ${where} ${figures}, ${plural(result.parts, 'part')} (${formatBytes(result.bytes)}), ${time}`;
}

/** The closing summary of a run. */
export function formatSummary(source: string, results: readonly WindowResult[], location: string): string {
  const count = (status: WindowResult['status']) => results.filter((r) => r.status === status).length;
  const landed = results.filter((r) => r.status === 'committed');
  const sum = (field: 'records' | 'pages' | 'retries' | 'throttled' | 'bytes') => landed.reduce((n, r) => n + r[field], 0);
  return (
    `${source}: ${count('committed')} committed, ${count('skipped')} skipped, ${count('failed')} failed · ` +
    `${plural(sum('records'), 'record')} in ${plural(sum('pages'), 'page')} · ${sum('retries')} retries (${sum('throttled')} throttled) · ` +
    `${formatBytes(sum('bytes'))} → ${location}`
  );
}

/** Renders rows as an aligned text table. */
export function formatTable(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = rows.map((row) => row.map(cellText));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join(' │ ').trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  return [line(columns), rule, ...cells.map(line), `(${plural(rows.length, 'row')})`].join('\n');
}

/** Renders rows as RFC 4180 CSV. */
export function formatCsv(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const escape = (value: unknown) => {
    const text = value === null || value === undefined ? '' : cellText(value);
    return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return [columns.map(escape).join(','), ...rows.map((row) => row.map(escape).join(','))].join('\n');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
