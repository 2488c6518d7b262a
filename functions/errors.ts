/**
 * The typed errors of apilake. Every message says what was received, what was expected and
 * where (file + path, or a redacted URL), so an operator can act on it without a debugger.
 */

/** Base class of every error apilake raises on purpose. */
export class ApilakeError extends Error {
  /** Extra facts for logs and manifests; never holds a credential. */
  readonly context: Readonly<Record<string, unknown>>;

  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApilakeError';
    this.context = options.context ?? {};
  }
}

/** One problem found in a source definition, located by file and path inside it. */
export interface ConfigProblem {
  /** The file that holds the problem, as given to the loader. */
  readonly file: string;
  /** Dotted path inside the file, e.g. `streams[1].pagination.cursor`; empty for the whole file. */
  readonly path: string;
  /** 1-based line in the file, when the YAML node could be located. */
  readonly line?: number;
  readonly message: string;
}

/** A source definition (or a set of them) is invalid; lists every problem at once. */
export class ConfigError extends ApilakeError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[], options: { cause?: unknown } = {}) {
    super(formatProblems(problems), { ...options, context: { problems } });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map((p) => {
    const where = `${p.file}${p.line === undefined ? '' : `:${p.line}`}`;
    return `  ${where}${p.path ? ` ${p.path}` : ''}: ${p.message}`;
  });
  const noun = problems.length === 1 ? 'problem' : 'problems';
  return `invalid source definition (${problems.length} ${noun}):\n${lines.join('\n')}`;
}

/** A command-line argument or Lambda event is invalid. */
export class InputError extends ApilakeError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'InputError';
  }
}

/** A secret is missing, is not JSON, or lacks a key the auth type needs. Never holds the value. */
export class SecretError extends ApilakeError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'SecretError';
  }
}

/**
 * A placeholder of a request cannot be rendered: one validation reports (kept from ever being
 * sent as literal text), or a formatted time that would name two instants. Names the field.
 */
export class PlaceholderError extends ApilakeError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'PlaceholderError';
  }
}

/** Base of the errors raised while talking to the source's API. */
export class HttpError extends ApilakeError {
  /** `METHOD url` with credentials redacted, or what else the error concerns (`job 42`). */
  readonly request: string;

  constructor(message: string, request: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    // A message that begins with what it concerns (`job 42: …`) names it once.
    super(message.startsWith(request) ? message : `${message} (${request})`, options);
    this.name = 'HttpError';
    this.request = request;
  }
}

/** The API answered with a status that is not retried, or kept failing until the retry budget ran out. */
export class HttpStatusError extends HttpError {
  readonly status: number;

  constructor(status: number, bodySnippet: string, request: string, options: { attempts?: number; cause?: unknown } = {}) {
    const tries = options.attempts && options.attempts > 1 ? ` after ${options.attempts} attempts` : '';
    super(`HTTP ${status}${tries}${bodySnippet ? `: ${bodySnippet}` : ''}`, request, {
      cause: options.cause,
      context: { status, attempts: options.attempts },
    });
    this.name = 'HttpStatusError';
    this.status = status;
  }
}

/** The connection failed (reset, timeout, DNS) and kept failing until the retry budget ran out. */
export class HttpNetworkError extends HttpError {
  constructor(reason: string, request: string, options: { attempts?: number; cause?: unknown } = {}) {
    const tries = options.attempts && options.attempts > 1 ? ` after ${options.attempts} attempts` : '';
    super(`network error${tries}: ${reason}`, request, { cause: options.cause, context: { attempts: options.attempts } });
    this.name = 'HttpNetworkError';
  }
}

/**
 * A body that broke mid-way cannot be continued without risking a lost or a duplicated record: the
 * file changed between attempts (its first bytes, validator or length differ), or the server's answer
 * to a resume is not the continuation it claims (a Content-Range that starts elsewhere, more bytes
 * than the length it declared). Not retried within the attempt: the window fails, and its next
 * attempt downloads the file anew.
 */
export class BodyResumeError extends HttpError {
  constructor(message: string, request: string, options: { offset: number; cause?: unknown }) {
    super(message, request, { cause: options.cause, context: { offset: options.offset } });
    this.name = 'BodyResumeError';
  }
}

/** The server asked us to wait longer than the retry policy allows. */
export class RetryBudgetError extends HttpError {
  constructor(message: string, request: string, options: { cause?: unknown } = {}) {
    super(message, request, options);
    this.name = 'RetryBudgetError';
  }
}

/** Too many consecutive requests failed; the source is treated as down until the cool-down ends. */
export class CircuitOpenError extends HttpError {
  constructor(failures: number, request: string, options: { cause?: unknown } = {}) {
    const cause = options.cause;
    let last = cause instanceof Error ? `; last error: ${cause.message}` : '';
    if (cause instanceof HttpError && cause.request !== request) {
      // The breaker is shared by every stream of the source: never quote another stream's URL as if it were this request's.
      const own = cause.message.endsWith(` (${cause.request})`) ? cause.message.slice(0, -(cause.request.length + 3)) : cause.message;
      last = `; last error, on another request of this source: ${own}`;
    }
    super(`circuit open after ${failures} consecutive failed requests of this source${last}`, request, options);
    this.name = 'CircuitOpenError';
  }
}

/** A response's body is not valid JSON. */
export class InvalidJsonError extends HttpError {
  /** @param where what the body answered, e.g. `page 3` or `token response`. */
  constructor(where: string, snippet: string, request: string, options: { cause?: unknown } = {}) {
    super(`${where}: response body is not valid JSON: ${snippet}`, request, options);
    this.name = 'InvalidJsonError';
  }
}

/** The `records` path is missing from a response, or does not point at an array. */
export class RecordsPathError extends HttpError {
  /**
   * The parsed body that holds no records, so response rules can judge it; not enumerable, so a
   * logger that serialises the error never prints the API's data.
   */
  declare readonly body: unknown;

  constructor(page: number, expression: string, received: string, request: string, options: { body?: unknown } = {}) {
    super(`page ${page}: records path "${expression}" ${received}`, request);
    this.name = 'RecordsPathError';
    Object.defineProperty(this, 'body', { value: options.body, enumerable: false });
  }
}

/** A response rule ended the request: its action is `fail`, or its retries ran out. Quotes the API's own message, masked. */
export class ResponseRuleError extends HttpError {
  readonly status: number;
  /** The rule, e.g. `response_rules[0] of stream "orders"`. */
  readonly rule: string;

  constructor(status: number, rule: string, message: string, request: string, options: { attempts?: number; cause?: unknown } = {}) {
    const tries = options.attempts && options.attempts > 1 ? ` after ${options.attempts} attempts` : '';
    super(`HTTP ${status}${tries}, ${rule}${message ? `: ${message}` : ''}`, request, { cause: options.cause, context: { status, rule, attempts: options.attempts } });
    this.name = 'ResponseRuleError';
    this.status = status;
    this.rule = rule;
  }
}

/**
 * Thrown by a body reader to ask the HTTP client for another attempt (a response rule's `retry` or
 * `refresh_auth` on a 2xx body): the client treats it as a retryable status, counted against
 * `retry.max_attempts`, and fails with {@link ResponseRuleError} when they run out. Not a failure
 * of its own: it never leaves the client.
 */
export class RetryableResponse extends ApilakeError {
  readonly status: number;
  readonly rule: string;
  /** The wait the rule gives, in ms; undefined: the retry policy's backoff. */
  readonly waitMs: number | undefined;
  /** Refresh the token first (`refresh_auth`), then ask once more. */
  readonly refreshAuth: boolean;
  /** The API's message, masked, for the error if no attempt is left. */
  readonly detail: string;

  constructor(init: { status: number; rule: string; detail: string; waitMs?: number; refreshAuth?: boolean }) {
    super(`HTTP ${init.status}, ${init.rule}: ${init.refreshAuth ? 'refresh_auth' : 'retry'}${init.detail ? ` (${init.detail})` : ''}`);
    this.name = 'RetryableResponse';
    this.status = init.status;
    this.rule = init.rule;
    this.waitMs = init.waitMs;
    this.refreshAuth = init.refreshAuth ?? false;
    this.detail = init.detail;
  }
}

/** Paging went wrong: the max_pages guard tripped, a cursor repeated, or a next URL left the source. */
export class PaginationError extends HttpError {
  constructor(message: string, request: string) {
    super(message, request);
    this.name = 'PaginationError';
  }
}

/** An export job failed at the API, ran past its `poll.timeout`, or answered without what the job block names (its id, its files). */
export class JobError extends HttpError {
  constructor(message: string, request: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, request, options);
    this.name = 'JobError';
  }
}

/** Writing to, listing or deleting from the lake failed. */
export class SinkError extends ApilakeError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'SinkError';
  }
}

/**
 * A storage call made no progress within its timeout on every attempt it was given. Its outcome
 * is unknown (a write may have been applied and its response lost) and trying it once more is
 * unlikely to help: callers resolve it by reading back, never by assuming.
 */
export class StorageStallError extends SinkError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'StorageStallError';
  }
}

/** The run was stopped (deadline or interrupt) before the window could finish. */
export class AbortedError extends ApilakeError {
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(`stopped before the window finished: ${reason}`, options);
    this.name = 'AbortedError';
  }
}

/**
 * What a wait stopped by `signal` rejects with: the signal's reason when it is an Error, else an
 * {@link AbortedError} naming it (runs are stopped with a text reason, e.g. `interrupted`), so a
 * caller always receives an Error.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new AbortedError(typeof reason === 'string' ? reason : reason === undefined ? 'aborted' : `aborted (${typeof reason} reason)`);
}

/** `value` when it is an Error, else an Error saying what was thrown instead (a library threw a string). */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(`non-error thrown: ${String(value)}`);
}

/**
 * A slice of a window landed across invocations reached no part boundary before its invocation's
 * deadline: a part takes longer to fill than an invocation lasts, so trying again cannot help.
 */
export class PartTooSlowError extends ApilakeError {
  constructor(message: string, options: { context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'PartTooSlowError';
  }
}

/** A redirect was refused: to an origin the source does not name, too many in a row, or to a bad Location. */
export class RedirectError extends HttpError {
  constructor(message: string, request: string, options: { context?: Record<string, unknown> } = {}) {
    super(message, request, options);
    this.name = 'RedirectError';
  }
}

/**
 * A record lacks a value the stream needs, or holds one it cannot use: an `incremental.cursor_field`
 * that is missing, unparseable or out of the declared order, a `parent.key` that is missing or
 * not a string or number. Names the page, the record's position and the field.
 */
export class RecordFieldError extends HttpError {
  constructor(message: string, request: string) {
    super(message, request);
    this.name = 'RecordFieldError';
  }
}

/** A cassette file cannot be used: not gzip, not JSON, another format, or for another source. Names the file. */
export class CassetteFormatError extends InputError {
  constructor(message: string, options: { cause?: unknown; context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'CassetteFormatError';
  }
}

/** A replayed request that the cassette does not hold: says which request, and how it differs from the nearest recorded one. */
export class CassetteMismatchError extends ApilakeError {
  constructor(message: string, options: { context?: Record<string, unknown> } = {}) {
    super(message, options);
    this.name = 'CassetteMismatchError';
  }
}
