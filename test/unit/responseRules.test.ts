import { describe, expect, it } from 'vitest';
import { apiErrorMessage } from '../../functions/body/apiErrorMessage.js';
import { responseRuleSchema, type BudgetConfig } from '../../functions/config/responseRuleSchema.js';
import { decide, rulesFor, type ResponseRule } from '../../functions/http/responseRules.js';

const NOW = Date.parse('2025-01-01T00:00:00Z');
const rule = (config: unknown, name = 'rule'): ResponseRule => ({ ...responseRuleSchema.parse(config), name });
const facts = (status: number, body: unknown, headers: Record<string, string> = {}) => ({ status, headers: new Headers(headers), body });

/** Shopify's throttled answer: HTTP 200, the code in errors[].extensions, the bucket in extensions.cost. */
const shopifyThrottled = {
  errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/limits' } }],
  extensions: { cost: { requestedQueryCost: 202, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 52, restoreRate: 100 } } },
};
/** Google's documented 403 for a per-user rate limit. */
const googleRateLimited = {
  error: { errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' }], code: 403, message: 'User Rate Limit Exceeded' },
};
const SHOPIFY_BUDGET: BudgetConfig = {
  remaining: 'extensions.cost.throttleStatus.currentlyAvailable',
  restore_per_second: 'extensions.cost.throttleStatus.restoreRate',
  cost: 'extensions.cost.requestedQueryCost',
  maximum: 'extensions.cost.throttleStatus.maximumAvailable',
};

describe('decide', () => {
  const throttled = rule({ when: { status: 200, body: "errors[?extensions.code=='THROTTLED']" }, action: 'retry', wait: 'budget' });
  const google = rule({ when: { status: 403, body: "error.errors[?reason=='userRateLimitExceeded']" }, action: 'retry' });
  const quota = rule({ when: { status: '4xx', headers: { 'x-reason': '/quota/i' } }, action: 'fail', message: 'error.message' });
  const retryAfter = rule({ when: { status: [429, 503] }, action: 'retry', wait: 'header:retry-after' });
  const notFound = rule({ when: { status: 404 }, action: 'ignore' });
  const rules = [throttled, google, quota, retryAfter, notFound];

  it.each([
    // (202 − 52) points at 100 a second: 1.5 s until the bucket holds the query's cost.
    ['a Shopify THROTTLED body on 200 retries after the restore time', facts(200, shopifyThrottled), { action: 'retry', rule: throttled, waitMs: 1_500 }],
    ['a 200 without errors is a page', facts(200, { data: { orders: { nodes: [] } } }), undefined],
    ["Google's 403 userRateLimitExceeded retries with the backoff", facts(403, googleRateLimited), { action: 'retry', rule: google }],
    ['any other 403 keeps the built-in handling', facts(403, { error: { errors: [{ reason: 'forbidden' }] } }), undefined],
    [
      'a header pattern matches in any case and takes the message',
      facts(400, { error: { message: 'Daily quota used' } }, { 'X-Reason': 'QUOTA' }),
      { action: 'fail', rule: quota, message: 'Daily quota used' },
    ],
    ['a wait reads Retry-After seconds', facts(503, 'busy', { 'retry-after': '7' }), { action: 'retry', rule: retryAfter, waitMs: 7_000 }],
    ['a wait reads a Retry-After date', facts(429, '', { 'retry-after': 'Wed, 01 Jan 2025 00:00:30 GMT' }), { action: 'retry', rule: retryAfter, waitMs: 30_000 }],
    ['a body that is not JSON never matches a body expression', facts(200, '<html>Throttled</html>'), undefined],
    ['ignore', facts(404, { message: 'Not Found' }), { action: 'ignore', rule: notFound }],
  ])('%s', (_what, seen, expected) => {
    expect(decide(rules, seen, { nowMs: NOW, budget: SHOPIFY_BUDGET })).toEqual(expected);
  });

  it('takes the first rule that matches', () => {
    const first = rule({ when: { status: 429 }, action: 'fail' });
    expect(decide([first, retryAfter], facts(429, ''), { nowMs: NOW })?.rule).toBe(first);
  });

  it("lists a stream's rules before the source's, each named", () => {
    const config = responseRuleSchema.parse({ when: { status: 404 }, action: 'ignore' });
    expect(rulesFor([config], [config], 'orders').map((r) => r.name)).toEqual(['response_rules[0] of stream "orders"', 'response_rules[0] of the source']);
  });

  it('reads a wait from the body in the unit given, an epoch time as a time to wait until', () => {
    const inMs = rule({ when: { status: 429 }, action: 'retry', wait: 'retry_in', wait_unit: 'ms' });
    expect(decide([inMs], facts(429, { retry_in: 250 }), { nowMs: NOW })?.waitMs).toBe(250);
    const until = rule({ when: { status: 429 }, action: 'retry', wait: 'reset_at' });
    expect(decide([until], facts(429, { reset_at: NOW / 1000 + 12 }), { nowMs: NOW })?.waitMs).toBe(12_000);
  });
});

describe('apiErrorMessage', () => {
  it.each([
    ['GraphQL errors with their code', shopifyThrottled, 'Throttled (THROTTLED)'],
    ['Google error object with its reason', googleRateLimited, 'User Rate Limit Exceeded (userRateLimitExceeded)'],
    ['Slack-style ok:false', { ok: false, error: 'ratelimited' }, 'ratelimited'],
    ['OAuth-style error with description', { error: 'invalid_grant', error_description: 'Token expired' }, 'invalid_grant: Token expired'],
    ['JSON:API errors', { errors: [{ title: 'Invalid', detail: 'page[cursor] is invalid', status: '400' }] }, 'page[cursor] is invalid (400)'],
    ['a bare message', { message: 'Bad credentials' }, 'Bad credentials'],
    ['more than three errors', { errors: ['a', 'b', 'c', 'd', 'e'] }, 'a; b; c; and 2 more'],
    ['no error', { data: null }, undefined],
    ['not an object', 'oops', undefined],
  ])('%s', (_what, body, expected) => expect(apiErrorMessage(body)).toBe(expected));

  it('clips a long message', () => {
    expect(apiErrorMessage({ message: 'x'.repeat(500) })).toHaveLength(200);
  });
});
