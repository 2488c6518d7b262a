/**
 * Values a run could not convert to a stream's typed columns: stored as NULL in the typed table
 * while `data` keeps them as the API sent them, so a query of the column silently misses them
 * unless the run says so. One line per stream and column, however many windows had some.
 */

import type { SourceDefinition, WindowResult } from '../../functions/index.js';
import { plural } from '../format.js';

/** The lines to print, per stream and column in the order they first came, for the windows this run committed. */
export function typeErrorWarnings(source: SourceDefinition, results: readonly WindowResult[]): string[] {
  const groups = new Map<string, { stream: string; column: string; values: number; windows: number }>();
  for (const result of results) {
    // A skipped window's counts are an earlier run's, told when that run committed it.
    if (result.status !== 'committed') continue;
    for (const [column, values] of Object.entries(result.typeErrors ?? {})) {
      if (values <= 0) continue;
      const key = `${result.stream}\n${column}`;
      const group = groups.get(key) ?? { stream: result.stream, column, values: 0, windows: 0 };
      group.values += values;
      group.windows++;
      groups.set(key, group);
    }
  }
  return [...groups.values()].map(({ stream, column, values, windows }) => {
    const type = source.streams.find((s) => s.name === stream)?.columns.find((c) => c.name === column)?.type;
    return (
      `${source.name}.${stream}: column ${column}: ${plural(values, 'value')}${windows > 1 ? ` in ${plural(windows, 'window')}` : ''} did not convert to ${type ?? 'its type'} ` +
      `and ${values === 1 ? 'was' : 'were'} stored as NULL (data keeps ${values === 1 ? 'it' : 'them'} as sent)`
    );
  });
}
