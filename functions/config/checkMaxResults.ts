/**
 * What `max_results` needs to split a window: a total to read from the first page, a window
 * placeholder whose bounds change with each part, and a `min_span` of whole seconds (the window
 * placeholders render seconds).
 */

import { parseDuration } from '../window/duration.js';
import { placeholdersIn } from '../window/templating.js';
import type { PartialStream } from './partialSource.js';
import { requestTexts } from './requestTexts.js';

/** Placeholders that render a part's bounds to the second; `_date` ones would render the same day for every part. */
const SPLITTABLE = /^window\.(start|end)(_epoch)?$/;

/** Problems of a stream's `max_results`, each with its path under the stream. */
export function maxResultsProblems(stream: PartialStream): { path: (string | number)[]; message: string }[] {
  const cap = stream.max_results;
  if (cap === undefined) return [];
  const problems: { path: (string | number)[]; message: string }[] = [];
  const pagination = stream.pagination as { total_records?: string } | undefined;
  if (cap.total === undefined && pagination?.total_records === undefined) {
    problems.push({
      path: ['max_results'],
      message: 'needs the total number of results the first page reports, to split a window before landing it: give max_results: { limit, total: <JMESPath, e.g. total> } or pagination.total_records',
    });
  }
  const span = parseDuration(cap.min_span);
  if (span === undefined || span < 1000) problems.push({ path: ['max_results', 'min_span'], message: `"${cap.min_span}" is not a duration of whole seconds, at least 1s (e.g. 1s, 30s, 5m)` });
  const names = requestTexts(stream)
    .flatMap(placeholdersIn)
    .filter((name) => name.startsWith('window.'));
  if (!names.some((name) => SPLITTABLE.test(name))) {
    const found = names.length > 0 ? `only ${[...new Set(names)].map((n) => `{${n}}`).join(', ')}` : 'no window placeholder';
    problems.push({
      path: ['max_results'],
      message: `splitting a window needs its bounds in the request ({window.start}, {window.end}, {window.start_epoch}, {window.end_epoch} in path, params or body); the request has ${found}`,
    });
  }
  return problems;
}
