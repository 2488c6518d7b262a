/** Reads one field of a parsed record by JMESPath, fast for the common plain paths (`updated_at`, `meta.id`). */

import { search } from '@aws-lambda-powertools/jmespath';

type JsonObject = Parameters<typeof search>[1];

/** A JMESPath identifier path: what a plain property walk answers exactly as JMESPath would. */
const PLAIN_PATH = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/**
 * A reader of `expression` over records parsed with exact numbers. The value comes back as
 * parsed: a number a float would change stays a lossless-json `LosslessNumber`, so its text is
 * kept; `null` when the path does not exist (as JMESPath answers).
 */
export function recordField(expression: string): (record: unknown) => unknown {
  if (!PLAIN_PATH.test(expression)) return (record) => search(expression, record as JsonObject) ?? null;
  const keys = expression.split('.');
  return (record) => {
    let node = record;
    for (const key of keys) {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, key)) return null;
      node = (node as Record<string, unknown>)[key];
    }
    return node ?? null;
  };
}
