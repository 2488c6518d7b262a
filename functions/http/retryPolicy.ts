/**
 * When to retry a request and how long to wait: data plus pure functions.
 * Backoff is exponential with full jitter; `Retry-After` and rate-limit reset headers are
 * authoritative when present.
 */

import type { RetryConfig } from '../config/sourceSchema.js';
import type { ResponseHeaders } from './Transport.js';

/** Statuses that mean "try again later": timeouts, throttling and server errors. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524, 529]);

/** Statuses counted as throttling in run statistics. */
export const THROTTLE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Why a retry happens. */
export type RetryReason = { readonly kind: 'status'; readonly status: number } | { readonly kind: 'network'; readonly code: string };

/** Whether a status is worth retrying. A 403 with `x-ratelimit-remaining: 0` is GitHub-style throttling. */
export function isRetryableStatus(status: number, headers: ResponseHeaders): boolean {
  if (RETRYABLE_STATUSES.has(status) || (status >= 500 && status !== 501 && status !== 505)) return true;
  return status === 403 && headers.get('x-ratelimit-remaining') === '0';
}

/** Whether a response counts as throttled (for metrics and progress). */
export function isThrottled(status: number, headers: ResponseHeaders): boolean {
  return status === 429 || (status === 403 && headers.get('x-ratelimit-remaining') === '0');
}

/**
 * The delay the server asked for, in ms, from `Retry-After` (seconds or HTTP date), then
 * `ratelimit-reset` / `x-ratelimit-reset` (seconds to wait, or an epoch time when large).
 * @returns `undefined` when the server said nothing usable.
 */
export function serverRequestedDelayMs(headers: ResponseHeaders, nowMs: number): number | undefined {
  const retryAfter = headers.get('retry-after');
  if (retryAfter !== null) {
    const fromHeader = parseRetryAfter(retryAfter, nowMs);
    if (fromHeader !== undefined) return fromHeader;
  }
  for (const name of ['ratelimit-reset', 'x-ratelimit-reset', 'x-rate-limit-reset']) {
    const value = headers.get(name);
    if (value === null) continue;
    const reset = parseResetHeader(value, nowMs);
    if (reset !== undefined) return reset;
  }
  return undefined;
}

/** `Retry-After: 120` or `Retry-After: Wed, 21 Oct 2015 07:28:00 GMT` → ms from now (never negative). */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/** Epoch seconds are ≥ 1e9 (2001); anything smaller is a delta in seconds, as in the IETF draft. */
export function parseResetHeader(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return undefined;
  const number = Number(trimmed);
  return number >= 1e9 ? Math.max(0, Math.round(number * 1000 - nowMs)) : Math.round(number * 1000);
}

/**
 * Full-jitter exponential backoff: a uniform draw in `[0, min(max, base · 2^(retry-1)))`.
 * @param retry 1 for the first retry.
 * @param random a uniform draw in [0, 1).
 */
export function backoffDelayMs(retry: number, policy: Pick<RetryConfig, 'base_delay_ms' | 'max_delay_ms'>, random: number): number {
  const ceiling = Math.min(policy.max_delay_ms, policy.base_delay_ms * 2 ** Math.max(0, retry - 1));
  return Math.floor(random * ceiling);
}

/** The outcome of asking the policy about a failed attempt. */
export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number; readonly serverRequested: boolean }
  | { readonly retry: false; readonly why: 'not_retryable' | 'attempts_exhausted' | 'wait_too_long'; readonly delayMs?: number };

/**
 * Decides whether attempt `attempt` (1-based) that failed should be retried, and after how long.
 * A server-requested wait longer than `max_delay_ms` gives up instead of blocking for it.
 */
export function decideRetry(input: {
  readonly attempt: number;
  readonly retryable: boolean;
  readonly headers?: ResponseHeaders;
  /** A wait the server asked for in its own way (a response rule's `wait`): wins over the headers. */
  readonly requestedMs?: number;
  readonly nowMs: number;
  readonly random: number;
  readonly policy: Pick<RetryConfig, 'max_attempts' | 'base_delay_ms' | 'max_delay_ms'>;
}): RetryDecision {
  const { attempt, policy } = input;
  if (!input.retryable) return { retry: false, why: 'not_retryable' };
  if (attempt >= policy.max_attempts) return { retry: false, why: 'attempts_exhausted' };
  const requested = input.requestedMs ?? (input.headers ? serverRequestedDelayMs(input.headers, input.nowMs) : undefined);
  if (requested !== undefined) {
    if (requested > policy.max_delay_ms) return { retry: false, why: 'wait_too_long', delayMs: requested };
    return { retry: true, delayMs: requested, serverRequested: true };
  }
  return { retry: true, delayMs: backoffDelayMs(attempt, policy, input.random), serverRequested: false };
}
