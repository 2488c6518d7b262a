import { RecordsPathError } from '../errors.js';
import { evaluate } from '../expressions/evaluate.js';

/**
 * The records of one page, selected by the stream's `records` JMESPath.
 * A missing path is an error, not an empty page: APIs often answer 200 with an error body.
 * @param page 1-based page number, for the error message.
 * @param request the redacted request, for the error message.
 * @throws RecordsPathError
 */
export function selectRecords(body: unknown, expression: string, page: number, request: string): unknown[] {
  const selected = evaluate(expression, body);
  if (Array.isArray(selected)) return selected;
  const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? `; top-level keys: ${Object.keys(body).slice(0, 10).join(', ') || 'none'}` : '';
  const received = selected === null ? `is missing from the response${keys}` : `points at ${describe(selected)}, expected an array of records`;
  throw new RecordsPathError(page, expression, received, request);
}

function describe(value: unknown): string {
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}
