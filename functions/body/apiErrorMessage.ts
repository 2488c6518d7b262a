/**
 * The API's own words in a body that holds an error instead of records: GraphQL and JSON:API
 * `errors[]`, Google-style `error: {message, status}`, Slack-style `{ok: false, error: "…"}`,
 * OAuth-style `error` + `error_description`, or a bare `message`. Callers mask it before quoting.
 */

/** Longest text taken from one error. */
const MAX_ONE = 200;
/** Errors of a list quoted at most. */
const MAX_ERRORS = 3;

/** The error a body reports, as one line of text, or undefined when it reports none. */
export function apiErrorMessage(body: unknown): string | undefined {
  if (!isObject(body)) return undefined;
  const { errors, error } = body;
  if (Array.isArray(errors) && errors.length > 0) {
    const quoted = errors
      .slice(0, MAX_ERRORS)
      .map(describeError)
      .filter((text): text is string => text !== undefined);
    if (quoted.length > 0) return quoted.join('; ') + (errors.length > MAX_ERRORS ? `; and ${errors.length - MAX_ERRORS} more` : '');
  }
  if (typeof error === 'string' && error !== '') {
    const description = typeof body.error_description === 'string' ? `: ${clip(body.error_description)}` : '';
    return `${clip(error)}${description}`;
  }
  if (isObject(error)) {
    const described = describeError(error);
    if (described !== undefined) return described;
  }
  return typeof body.message === 'string' && body.message !== '' ? clip(body.message) : undefined;
}

/** `Throttled (THROTTLED)`: an error's message with its code, reason or status. */
function describeError(error: unknown): string | undefined {
  if (typeof error === 'string') return error === '' ? undefined : clip(error);
  if (!isObject(error)) return undefined;
  const message = [error.message, error.detail, error.title].find((m): m is string => typeof m === 'string' && m !== '');
  const extensions = isObject(error.extensions) ? error.extensions : {};
  const nested = Array.isArray(error.errors) && isObject(error.errors[0]) ? error.errors[0] : {};
  const found = [extensions.code, nested.reason, error.reason, error.code, error.status, error.type].find((c): c is string | number => (typeof c === 'string' && c !== '') || typeof c === 'number');
  const code = found === undefined ? undefined : String(found);
  if (message === undefined) return code;
  return code === undefined || code === message ? clip(message) : `${clip(message)} (${code})`;
}

function clip(text: string): string {
  return text.length > MAX_ONE ? `${text.slice(0, MAX_ONE - 1)}…` : text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
