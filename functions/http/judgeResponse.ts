/**
 * What one failed attempt of a request means: a network failure, a 2xx body its reader asked to
 * have again, or a status that is not 2xx judged by the source's response rules and then by the
 * built-in handling of statuses. The result says whether asking again could help.
 */

import type { Clock } from '../clock.js';
import { type ApilakeError, HttpNetworkError, HttpStatusError, type HttpError, ResponseRuleError, type RetryableResponse } from '../errors.js';
import type { ApiBudgetPacer } from './ApiBudgetPacer.js';
import type { RequestOptions } from './HttpRequest.js';
import { quoteBody } from './quoteBody.js';
import type { Redactor } from './redact.js';
import { decide } from './responseRules.js';
import { isRetryableStatus, isThrottled } from './retryPolicy.js';
import type { ResponseHeaders } from './Transport.js';

/** How one attempt of a request ended. */
export type Attempt<T> =
  | { readonly kind: 'read'; readonly status: number; readonly headers: ResponseHeaders; readonly value: T; readonly hops: number }
  /** A status that is not 2xx, with the body's text for the error. */
  | { readonly kind: 'status'; readonly status: number; readonly headers: ResponseHeaders; readonly text: string; readonly hops: number }
  | { readonly kind: 'network'; readonly reason: string; readonly error: unknown; readonly hops: number }
  /** Not worth retrying: a redirect the source may not follow, or a body its reader refused. */
  | { readonly kind: 'refused'; readonly error: ApilakeError; readonly hops: number }
  /** A 2xx body its reader asked to have again (a response rule). */
  | { readonly kind: 'again'; readonly signal: RetryableResponse; readonly headers: ResponseHeaders; readonly hops: number };

/** A failed attempt, and what may follow it. */
export interface Failure {
  /** Thrown when no attempt follows. */
  readonly error: HttpError;
  readonly retryable: boolean;
  /** Headers that may ask for a wait (Retry-After, a reset). */
  readonly headers?: ResponseHeaders;
  /** A wait a response rule read from the response, in ms. */
  readonly waitMs?: number;
  readonly throttled: boolean;
  /** A 401, or a rule's refresh_auth: a refreshed token is worth one more attempt. */
  readonly refreshAuth: boolean;
}

/** A response a rule's `ignore` turned into a result. */
export interface Ignored<T> {
  readonly ignored: T;
  readonly status: number;
  readonly headers: ResponseHeaders;
}

/** What {@link judgeResponse} needs besides the attempt. */
export interface JudgeContext {
  /** The request as errors name it (label, method, redacted URL). */
  readonly described: string;
  /** Which attempt this was, from 1, for the error. */
  readonly attempt: number;
  readonly redactor: Redactor;
  readonly clock: Clock;
  /** The API's budget, observed in an error body too (`rate_limit.budget`). */
  readonly apiBudget: ApiBudgetPacer;
}

/**
 * What a failed attempt means: the first response rule that matches a status decides (a `fail`
 * throws at once, an `ignore` is a result), else the built-in handling of statuses and network
 * failures.
 * @throws ResponseRuleError for a rule's `fail`, or an `ignore` the caller cannot read
 */
export function judgeResponse<T>(outcome: Exclude<Attempt<T>, { kind: 'read' | 'refused' }>, options: RequestOptions<T>, context: JudgeContext): Failure | Ignored<T> {
  const { described, attempt, redactor, clock, apiBudget } = context;
  const mask = (text: string) => redactor.text(text);
  if (outcome.kind === 'network') {
    return { error: new HttpNetworkError(outcome.reason, described, { attempts: attempt, cause: outcome.error }), retryable: true, throttled: false, refreshAuth: false };
  }
  if (outcome.kind === 'again') {
    const { signal, headers } = outcome;
    const error = new ResponseRuleError(signal.status, signal.rule, signal.detail, described, { attempts: attempt });
    return { error, retryable: !signal.refreshAuth, headers, ...(signal.waitMs !== undefined ? { waitMs: signal.waitMs } : {}), throttled: !signal.refreshAuth, refreshAuth: signal.refreshAuth };
  }
  const { status, headers, text } = outcome;
  const rules = options.rules ?? [];
  const budget = apiBudget.budget;
  if (rules.length > 0 || budget) {
    let parsed: { value: unknown } | undefined;
    const body = () => (parsed ??= { value: parseBody(text) }).value;
    if (budget) apiBudget.observeBody(body());
    const decision = decide(
      rules,
      {
        status,
        headers,
        get body() {
          return body();
        },
      },
      { nowMs: clock.now(), ...(budget ? { budget } : {}) },
    );
    if (decision) {
      const message = decision.message === undefined ? quoteBody(text, mask) : mask(decision.message);
      const error = new ResponseRuleError(status, decision.rule.name, message, described, { attempts: attempt });
      switch (decision.action) {
        case 'fail':
          throw error;
        case 'ignore':
          if (!options.ignore) throw error;
          return { ignored: options.ignore({ status, headers, body: body() }), status, headers };
        case 'refresh_auth':
          return { error, retryable: false, throttled: false, refreshAuth: true };
        case 'retry':
          return { error, retryable: true, headers, ...(decision.waitMs !== undefined ? { waitMs: decision.waitMs } : {}), throttled: true, refreshAuth: false };
      }
    }
  }
  const error = new HttpStatusError(status, quoteBody(text, mask), described, { attempts: attempt });
  return { error, retryable: isRetryableStatus(status, headers), headers, throttled: isThrottled(status, headers), refreshAuth: status === 401 };
}

/** A body that is not 2xx as rules read it: JSON when it parses, else its text. */
function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
