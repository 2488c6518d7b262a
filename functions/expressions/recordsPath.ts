/**
 * Recognises the `records` expressions that are plain key paths (`@`, `data`, `data.items`,
 * `"odd key".items`), which the scanner follows byte by byte so records land exactly as sent.
 * Any other JMESPath (filters, projections, functions) goes through the tree fallback of
 * {@link RecordParser}.
 */

/** A records expression, classified. */
export type RecordsPath =
  /** Keys from the body's root to the records array; empty for `@`. */
  { readonly kind: 'keys'; readonly keys: readonly string[] } | { readonly kind: 'expression'; readonly expression: string };

// JMESPath grammar (jmespath.org/specification): unquoted-string = [A-Za-z_][0-9A-Za-z_]*;
// quoted-string = a JSON string of at least one character; tokens may be separated by blanks.
const IDENTIFIER = String.raw`(?:[A-Za-z_][0-9A-Za-z_]*|"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4}))+")`;
const KEY_PATH = new RegExp(String.raw`^\s*(?:@|${IDENTIFIER}(?:\s*\.\s*${IDENTIFIER})*)\s*$`);
const ONE_IDENTIFIER = new RegExp(IDENTIFIER, 'g');

/** Classifies a `records` expression. */
export function parseRecordsPath(expression: string): RecordsPath {
  if (!KEY_PATH.test(expression)) return { kind: 'expression', expression };
  if (expression.trim() === '@') return { kind: 'keys', keys: [] };
  const keys = (expression.match(ONE_IDENTIFIER) ?? []).map((token) => (token.startsWith('"') ? (JSON.parse(token) as string) : token));
  return { kind: 'keys', keys };
}
