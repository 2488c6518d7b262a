/**
 * An API's own account of its rate budget, read from a response, and what it means for the next
 * requests: data plus pure functions. Two kinds of budget exist:
 * - a window: `remaining` requests until the budget is whole again at `resetAtMs` (RateLimit and
 *   X-RateLimit headers; draft-ietf-httpapi-ratelimit-headers);
 * - a leaky bucket: `remaining` points that come back at `restorePerSecond`, each request costing
 *   `cost` (Shopify's GraphQL cost, read from the body by `rate_limit.budget`).
 */

import type { BudgetConfig } from '../config/responseRuleSchema.js';
import { evaluate } from '../expressions/evaluate.js';
import { parseResetHeader, parseRetryAfter } from './retryPolicy.js';
import type { ReportedBudget } from './TokenBucket.js';
import type { ResponseHeaders } from './Transport.js';

/** What is left of a budget as one response reports it, in the API's units. */
export interface BudgetReading {
  /** Units left now. */
  readonly remaining: number;
  /** What one request costs. */
  readonly cost: number;
  /** Units that come back each second (a leaky bucket). */
  readonly restorePerSecond?: number;
  /** When the budget is whole again, epoch ms (a window). */
  readonly resetAtMs?: number;
  /** The most the budget holds. */
  readonly maximum?: number;
  /** What the budget holds once reset (a window's limit), when reported. */
  readonly limit?: number;
}

/**
 * The most restrictive budget the headers report: `RateLimit: name;r=…;t=…` (with `RateLimit-Policy`
 * `q` or `l`), `RateLimit-Remaining`/`-Reset`/`-Limit`, `X-RateLimit-*` and `X-Rate-Limit-*`. A
 * reset is seconds from now, or epoch seconds from 1e9 on; a budget without one is not usable.
 */
export function budgetFromHeaders(headers: ResponseHeaders, nowMs: number): BudgetReading | undefined {
  let best: BudgetReading | undefined;
  const consider = (reading: BudgetReading | undefined) => {
    if (reading && (best === undefined || reading.remaining < best.remaining)) best = reading;
  };
  const structured = headers.get('ratelimit');
  if (structured !== null) consider(fromStructured(structured, headers.get('ratelimit-policy'), nowMs));
  for (const prefix of ['ratelimit', 'x-ratelimit', 'x-rate-limit']) {
    const remaining = leadingNumber(headers.get(`${prefix}-remaining`));
    const reset = headers.get(`${prefix}-reset`);
    if (remaining === undefined || reset === null) continue;
    const delay = parseResetHeader(reset, nowMs);
    if (delay === undefined) continue;
    const limit = leadingNumber(headers.get(`${prefix}-limit`));
    consider({ remaining, cost: 1, resetAtMs: nowMs + delay, ...(limit !== undefined ? { limit } : {}) });
  }
  return best;
}

/**
 * The budget a body reports through `rate_limit.budget`, or undefined when the body does not
 * hold it (an error page, a field missing).
 */
export function budgetFromBody(config: BudgetConfig, body: unknown, nowMs: number): BudgetReading | undefined {
  const read = (expression: string | undefined) => (expression === undefined ? undefined : asNumber(safeEvaluate(expression, body)));
  const remaining = read(config.remaining);
  if (remaining === undefined) return undefined;
  const cost = read(config.cost) ?? 1;
  const maximum = read(config.maximum);
  const extra = { ...(maximum !== undefined ? { maximum } : {}), cost: cost > 0 ? cost : 1 };
  if (config.restore_per_second !== undefined) {
    const restore = read(config.restore_per_second);
    return restore !== undefined && restore > 0 ? { remaining, restorePerSecond: restore, ...extra } : undefined;
  }
  const delay = parseTimeValue(safeEvaluate(config.reset!, body), 's', nowMs);
  return delay === undefined ? undefined : { remaining, resetAtMs: nowMs + delay, ...extra };
}

/**
 * How long until the budget holds one request's cost: 0 when it does now; `(cost − remaining) ÷
 * restorePerSecond` for a leaky bucket; until the reset for a window; undefined when the reading
 * says neither.
 */
export function budgetWaitMs(reading: BudgetReading, nowMs: number): number | undefined {
  const missing = reading.cost - reading.remaining;
  if (missing <= 0) return 0;
  if (reading.restorePerSecond !== undefined && reading.restorePerSecond > 0) return Math.ceil((missing / reading.restorePerSecond) * 1000);
  if (reading.resetAtMs !== undefined) return Math.max(0, reading.resetAtMs - nowMs);
  return undefined;
}

/**
 * The reading in requests, as the token bucket takes it, with the `inFlight` requests sent but
 * not answered yet taken off: the API may not have counted them when it answered.
 * @param latestResetAtMs a window's reset is capped here (retry.max_delay_ms from now): a longer
 *   wait is the retry policy's to refuse, not the bucket's to sit out.
 */
export function budgetInRequests(reading: BudgetReading, inFlight: number, latestResetAtMs = Number.POSITIVE_INFINITY): ReportedBudget {
  const per = (units: number) => units / reading.cost;
  return {
    available: per(reading.remaining) - inFlight,
    ...(reading.restorePerSecond !== undefined ? { refillPerSecond: per(reading.restorePerSecond) } : {}),
    ...(reading.maximum !== undefined ? { capacity: per(reading.maximum) } : {}),
    ...(reading.resetAtMs !== undefined ? { resetAtMs: Math.min(reading.resetAtMs, latestResetAtMs) } : {}),
    ...(reading.limit !== undefined ? { afterReset: per(reading.limit) } : {}),
  };
}

/**
 * A wait read from a body or a header, in ms from now: a number (or numeric text) is a delay in
 * `unit`, or an epoch time from 1e9 s (1e12 ms) on; other text is a date (ISO 8601 or HTTP
 * date) to wait until. Never negative; undefined when the value says nothing usable.
 */
export function parseTimeValue(value: unknown, unit: 's' | 'ms', nowMs: number): number | undefined {
  const number = asNumber(value);
  if (number !== undefined) {
    if (number < 0) return 0;
    const ms = unit === 's' ? number * 1000 : number;
    return ms >= 1e12 ? Math.max(0, Math.round(ms - nowMs)) : Math.round(ms);
  }
  if (typeof value !== 'string') return undefined;
  return parseRetryAfter(value, nowMs);
}

/** A finite number, or numeric text; anything else is undefined. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  return undefined;
}

/** The integer a header value starts with (`10` of `10, 10;w=1`). */
function leadingNumber(value: string | null): number | undefined {
  const match = value === null ? null : /^\s*(\d+(?:\.\d+)?)/.exec(value);
  return match ? Number(match[1]) : undefined;
}

/** JMESPath over a body that may be anything: a type error is "not there". */
function safeEvaluate(expression: string, body: unknown): unknown {
  try {
    return evaluate(expression, body);
  } catch {
    return null;
  }
}

/** `RateLimit: "default";r=5;t=30, "burst";r=1;t=2` (+ `RateLimit-Policy: "default";q=100;w=60`): the item with the least left. */
function fromStructured(value: string, policy: string | null, nowMs: number): BudgetReading | undefined {
  const limits = new Map<string, number>();
  for (const item of structuredItems(policy ?? '')) {
    const quota = asNumber(item.params.get('q') ?? item.params.get('l'));
    if (quota !== undefined) limits.set(item.name, quota);
  }
  let best: BudgetReading | undefined;
  for (const item of structuredItems(value)) {
    const remaining = asNumber(item.params.get('r'));
    const reset = item.params.get('t');
    if (remaining === undefined || reset === undefined) continue;
    const delay = parseResetHeader(reset, nowMs);
    if (delay === undefined) continue;
    const limit = limits.get(item.name);
    if (best === undefined || remaining < best.remaining) best = { remaining, cost: 1, resetAtMs: nowMs + delay, ...(limit !== undefined ? { limit } : {}) };
  }
  return best;
}

/** The items of a structured-field list (RFC 8941): `name;key=value;…`, names and string values unquoted. */
function structuredItems(value: string): { name: string; params: Map<string, string> }[] {
  const items: { name: string; params: Map<string, string> }[] = [];
  for (const text of value.match(/(?:[^,"]|"(?:[^"\\]|\\.)*")+/g) ?? []) {
    const [name = '', ...params] = text.match(/(?:[^;"]|"(?:[^"\\]|\\.)*")+/g) ?? [];
    const map = new Map<string, string>();
    for (const param of params) {
      const at = param.indexOf('=');
      if (at > 0) map.set(param.slice(0, at).trim().toLowerCase(), unquote(param.slice(at + 1).trim()));
    }
    items.push({ name: unquote(name.trim()), params: map });
  }
  return items;
}

function unquote(text: string): string {
  return text.startsWith('"') && text.endsWith('"') && text.length >= 2 ? text.slice(1, -1).replace(/\\(.)/g, '$1') : text;
}
