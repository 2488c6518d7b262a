/** JMESPath evaluation over API bodies, through Powertools' implementation. */

import { search } from '@aws-lambda-powertools/jmespath';
import { plainValue } from './preciseJson.js';

type JsonObject = Parameters<typeof search>[1];

/**
 * Evaluates a JMESPath expression; `null` when the path does not exist (as JMESPath defines).
 * A precise big number comes back as its exact text, so a cursor keeps every digit.
 */
export function evaluate(expression: string, body: unknown): unknown {
  return plainValue(search(expression, body as JsonObject));
}

/** JMESPath truthiness: false, null, "", [] and {} are false; everything else is true. */
export function isTruthy(value: unknown): boolean {
  if (value === null || value === undefined || value === false || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}
