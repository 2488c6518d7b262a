/**
 * Query results as text, batch by batch, so a result of any size is printed or written with
 * bounded memory: each batch becomes text at once and only the `table` format holds rows back
 * (the first {@link TABLE_SAMPLE_ROWS}, to size its columns).
 */

import { plural, valueText } from '../format.js';
import { csvField } from './csvField.js';

/** A column of a result. */
export interface ResultColumn {
  readonly name: string;
  /** Integers, decimals and floating point: what CSV never prefixes (csvField.ts). */
  readonly numeric: boolean;
}

/** The text formats of `apilake query`. */
export type TextFormat = 'table' | 'json' | 'csv';

/** Turns batches of rows into text. */
export interface RowFormatter {
  /** The text of a batch (empty while the table format samples its first rows). */
  push(rows: readonly (readonly unknown[])[]): string;
  /** What is left: held-back rows, the header of an empty result, the table's row count. */
  end(): string;
}

/** Options of {@link rowFormatter}. */
export interface RowFormatterOptions {
  /** CSV: prefix cells that a spreadsheet would read as a formula. @default true */
  readonly escapeFormulas?: boolean;
}

/** Rows the table format reads before printing, to set its column widths. */
export const TABLE_SAMPLE_ROWS = 1_000;

/**
 * A formatter of the given format:
 * - `json`: one JSON object a line;
 * - `csv`: RFC 4180 with a header line, formula-like text cells prefixed (csvField.ts);
 * - `table`: aligned columns whose widths come from the header and the first
 *   {@link TABLE_SAMPLE_ROWS} rows; a later, wider cell is printed whole and shifts the rest of
 *   its line. Control characters are shown escaped (`\n`, `\u001b`), so a value can neither
 *   break a line nor send the terminal an escape sequence.
 */
export function rowFormatter(format: TextFormat, columns: readonly ResultColumn[], options: RowFormatterOptions = {}): RowFormatter {
  if (format === 'json') return jsonRows(columns);
  if (format === 'csv') return csvRows(columns, options.escapeFormulas ?? true);
  return new TableRows(columns);
}

function jsonRows(columns: readonly ResultColumn[]): RowFormatter {
  return {
    push: (rows) => rows.map((row) => `${JSON.stringify(Object.fromEntries(columns.map((c, i) => [c.name, row[i]])))}\n`).join(''),
    end: () => '',
  };
}

function csvRows(columns: readonly ResultColumn[], escapeFormulas: boolean): RowFormatter {
  let header = `${columns.map((c) => csvField(c.name, { numeric: false, escapeFormulas })).join(',')}\n`;
  const takeHeader = () => {
    const text = header;
    header = '';
    return text;
  };
  const options = columns.map((c) => ({ numeric: c.numeric, escapeFormulas }));
  return {
    push: (rows) => takeHeader() + rows.map((row) => `${row.map((value, i) => csvField(value, options[i]!)).join(',')}\n`).join(''),
    end: takeHeader,
  };
}

class TableRows implements RowFormatter {
  private sample: string[][] | undefined = [];
  private widths: number[] = [];
  private count = 0;

  constructor(private readonly columns: readonly ResultColumn[]) {}

  push(rows: readonly (readonly unknown[])[]): string {
    this.count += rows.length;
    const cells = rows.map((row) => row.map(tableCell));
    if (!this.sample) return cells.map((line) => this.line(line)).join('');
    this.sample.push(...cells);
    return this.sample.length < TABLE_SAMPLE_ROWS ? '' : this.printSample();
  }

  end(): string {
    return `${this.sample ? this.printSample() : ''}(${plural(this.count, 'row')})\n`;
  }

  private printSample(): string {
    const sample = this.sample ?? [];
    this.sample = undefined;
    const names = this.columns.map((c) => tableCell(c.name));
    this.widths = names.map((name, i) => sample.reduce((w, row) => Math.max(w, row[i]!.length), name.length));
    const rule = `${this.widths.map((w) => '─'.repeat(w)).join('─┼─')}\n`;
    return this.line(names) + rule + sample.map((row) => this.line(row)).join('');
  }

  private line(values: readonly string[]): string {
    return `${values
      .map((v, i) => v.padEnd(this.widths[i] ?? 0))
      .join(' │ ')
      .trimEnd()}\n`;
  }
}

function tableCell(value: unknown): string {
  const text = valueText(value, 'NULL');
  // eslint-disable-next-line no-control-regex -- a cell shows control characters escaped, so this must match them
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (ch) =>
    JSON.stringify(ch)
      .slice(1, -1)
      .replace(/^[\u007f-\u009f]$/, `\\u00${ch.charCodeAt(0).toString(16)}`),
  );
}
