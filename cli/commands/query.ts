import { formatCsv, formatTable } from '../format.js';
import { runLocalQuery } from '../query/runLocalQuery.js';

/** `apilake query`: SQL over the local lake, printed as a table, JSON lines or CSV. */
export async function queryCommand(sql: string, options: { lake: string; format: 'table' | 'json' | 'csv' }): Promise<void> {
  const { columns, rows } = await runLocalQuery(sql, options.lake);
  console.log(renderRows(columns, rows, options.format));
}

/** Renders query rows in one of the CLI's formats. */
export function renderRows(columns: string[], rows: unknown[][], format: 'table' | 'json' | 'csv'): string {
  if (format === 'csv') return formatCsv(columns, rows);
  if (format === 'json') return rows.map((row) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, row[i]])))).join('\n');
  return formatTable(columns, rows);
}
