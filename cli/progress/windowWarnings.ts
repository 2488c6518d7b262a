/**
 * What a run's windows warned about without failing (a symlink not yet repaired, files left for
 * gc, a commit that could not be read and was landed again, nothing to curate): one line per
 * stream and warning, however many windows gave it, so a backfill of a thousand windows does not
 * print the same line a thousand times.
 */

import { describeWindow, type WindowResult } from '../../functions/index.js';

/** The lines to print, in the order the warnings first came; each text redacted. */
export function windowWarnings(results: readonly WindowResult[], redact: (text: string) => string = (text) => text): string[] {
  const groups = new Map<string, { stream: string; text: string; windows: WindowResult['window'][] }>();
  for (const result of results) {
    for (const warning of result.warnings ?? []) {
      const text = redact(warning);
      const key = `${result.stream}\n${text}`;
      const group = groups.get(key) ?? { stream: result.stream, text, windows: [] };
      group.windows.push(result.window);
      groups.set(key, group);
    }
  }
  return [...groups.values()].map(({ stream, text, windows }) => {
    const sorted = [...windows].sort((a, b) => a.start.getTime() - b.start.getTime());
    const where = sorted.length === 1 ? `window ${describeWindow(sorted[0]!)}` : `${sorted.length} windows, from ${describeWindow(sorted[0]!)} to ${describeWindow(sorted.at(-1)!)}`;
    return `stream ${stream}, ${where}: ${text}`;
  });
}
