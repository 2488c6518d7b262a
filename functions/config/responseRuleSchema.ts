/**
 * The `response_rules` of a source and of its streams, and the `rate_limit.budget` that reads an
 * API's own account of what is left from its bodies: zod schemas, checked further by
 * checkResponseRules.ts.
 *
 * @example
 * ```yaml
 * rate_limit:
 *   budget:
 *     remaining: extensions.cost.throttleStatus.currentlyAvailable
 *     restore_per_second: extensions.cost.throttleStatus.restoreRate
 *     cost: extensions.cost.requestedQueryCost
 * response_rules:
 *   - when: { status: 200, body: "errors[?extensions.code=='THROTTLED']" }
 *     action: retry
 *     wait: budget
 *   - when: { status: 403, body: "error.errors[?reason=='userRateLimitExceeded' || reason=='rateLimitExceeded']" }
 *     action: retry
 * ```
 */

import { z } from 'zod';

/** What a rule may do with a response it matches. */
export const RULE_ACTIONS = ['retry', 'fail', 'refresh_auth', 'ignore'] as const;

/** A status class: `4xx` matches 400–499. */
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

const jmespath = (description: string) => z.string().min(1).meta({ description });

const oneStatus = z.union([z.int().min(100).max(599), z.enum(STATUS_CLASSES)]);

const whenSchema = z
  .strictObject({
    status: z
      .union([oneStatus, z.array(oneStatus).min(1)])
      .optional()
      .meta({ description: 'A status (429), a class ("4xx"), or a list of them. @default any status' }),
    headers: z
      .record(z.string(), z.union([z.string(), z.boolean()]))
      .optional()
      .meta({
        description:
          'Response headers that must all match, by name (any case): a text is the exact value; a text written /…/ (or /…/i) is a regular expression the value must match; true: the header is present; false: it is absent.',
      }),
    body: jmespath(
      'JMESPath over the response body (parsed JSON; a body that is not JSON is its text); the rule matches when it is truthy, e.g. "errors[?extensions.code==\'THROTTLED\']".',
    ).optional(),
  })
  .refine((when) => when.status !== undefined || when.headers !== undefined || when.body !== undefined, 'a rule needs at least one of status, headers or body');

/** One rule: when a response matches, what to do. */
export const responseRuleSchema = z.strictObject({
  when: whenSchema,
  action: z.enum(RULE_ACTIONS).meta({
    description:
      "retry: ask again (counted against retry.max_attempts, and as throttled); fail: fail the window with the API's message; refresh_auth: refresh the token and ask once more, as for a 401; ignore: the page counts as empty and ends its paging (counted in the manifest as ignored_pages).",
  }),
  wait: z.string().min(1).optional().meta({
    description:
      'retry only: how long to wait. "header:<name>" reads a header (seconds, an HTTP date, or epoch seconds from 1e9 on); "budget" waits until rate_limit.budget holds the request\'s cost again; anything else is JMESPath over the body (a number in wait_unit, epoch seconds from 1e9 on, or a date). @default the retry backoff',
  }),
  wait_unit: z.enum(['s', 'ms']).default('s').meta({ description: 'The unit of a number that wait reads from the body. @default s' }),
  message: jmespath(
    "JMESPath over the body to the API's own message, quoted (credentials masked) when the rule fails the window, or when its retries run out. @default the API's error as found in the body",
  ).optional(),
});

/** The ordered rules of a source or a stream. */
export const responseRulesSchema = z.array(responseRuleSchema).default([]).meta({
  description:
    "Rules tried in order on every response of the stream (a stream's own first, then the source's); the first whose when matches decides. A response no rule matches keeps the built-in handling (429, 5xx and timeouts retried; a 2xx body read as a page).",
});

/** The API's own account of what is left, read from each response body. */
export const budgetSchema = z
  .strictObject({
    remaining: jmespath('JMESPath to what is left of the budget (requests, or points with cost).'),
    restore_per_second: jmespath("JMESPath to how much of the budget comes back each second (a leaky bucket, e.g. Shopify's restoreRate). Give this or reset.").optional(),
    reset: jmespath('JMESPath to when the budget is whole again (seconds from now, epoch seconds from 1e9 on, or a date). Give this or restore_per_second.').optional(),
    cost: jmespath('JMESPath to what one request costs (e.g. requestedQueryCost). @default 1').optional(),
    maximum: jmespath('JMESPath to the most the budget holds (e.g. maximumAvailable). @default no cap').optional(),
  })
  .meta({
    description:
      "Paces the source's requests by the budget each response body reports, so requests wait before the API would refuse them. Budgets in headers (RateLimit, RateLimit-Remaining/-Reset, X-RateLimit-Remaining/-Reset) are read without configuration.",
  });

/** One response rule, defaults filled. */
export type ResponseRuleConfig = z.output<typeof responseRuleSchema>;
/** A rule's action. */
export type RuleAction = (typeof RULE_ACTIONS)[number];
/** The `rate_limit.budget` block. */
export type BudgetConfig = z.output<typeof budgetSchema>;
