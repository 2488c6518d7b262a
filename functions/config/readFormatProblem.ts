/** Checks a `format:` that reads timestamps (`incremental.format`, `columns[].format`). */

import { compileTimeFormat } from '../window/timeFormat.js';

/** Why `format` cannot read timestamps (it does not compile, or has no year, month or day); undefined when it can. */
export function readFormatProblem(format: string): string | undefined {
  const compiled = compileTimeFormat(format);
  if (!compiled.ok) return compiled.message;
  return compiled.format.unreadable === undefined ? undefined : `format "${format}": ${compiled.format.unreadable}`;
}
