import { RecordsPathError } from '../errors.js';
import { evaluate } from '../expressions/evaluate.js';
import { apiErrorMessage } from './apiErrorMessage.js';

/**
 * The records of one page, selected by the stream's `records` JMESPath.
 * A missing path is an error, not an empty page: APIs often answer 200 with an error body, whose
 * own words the error quotes (GraphQL `errors`, `{ok: false, error}`…) when `redact` can mask them.
 * @param page 1-based page number, for the error message.
 * @param request the redacted request, for the error message.
 * @param redact masks credentials in text quoted from the body; without it nothing is quoted.
 * @throws RecordsPathError, carrying the body
 */
export function selectRecords(body: unknown, expression: string, page: number, request: string, redact?: (text: string) => string): unknown[] {
  const selected = evaluate(expression, body);
  if (Array.isArray(selected)) return selected;
  const keys = body !== null && typeof body === 'object' && !Array.isArray(body) ? `; top-level keys: ${Object.keys(body).slice(0, 10).join(', ') || 'none'}` : '';
  const said = redact ? apiErrorMessage(body) : undefined;
  const answered = said === undefined ? '' : `; the API answered: ${JSON.stringify(redact!(said))}`;
  const received = selected === null ? `is missing from the response${answered}${keys}` : `points at ${describe(selected)}, expected an array of records${answered}`;
  throw new RecordsPathError(page, expression, received, request, { body });
}

function describe(value: unknown): string {
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}
