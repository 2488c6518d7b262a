/**
 * Response rules applied to a 2xx body: the first rule that matches decides whether the page is
 * a page, is retried (a {@link RetryableResponse} the HTTP client acts on), refreshes the token,
 * fails the window with the API's own words, or is ignored.
 */

import { apiErrorMessage } from '../body/apiErrorMessage.js';
import type { BudgetConfig } from '../config/responseRuleSchema.js';
import { ResponseRuleError, RetryableResponse } from '../errors.js';
import type { HttpResponse } from '../http/HttpRequest.js';
import { decide, type ResponseRule } from '../http/responseRules.js';

/** What {@link applyBodyRules} needs to know of the page. */
export interface BodyRuleInput {
  readonly rules: readonly ResponseRule[];
  readonly response: HttpResponse;
  /** The parsed body, read only when a rule asks for it. */
  readonly body: () => unknown;
  /** Records of the page already landed: a page that landed records cannot be retried or ignored. */
  readonly landedRecords: number;
  readonly nowMs: number;
  readonly budget?: BudgetConfig;
}

/**
 * `'page'` when no rule matches, `'ignore'` when one ignores the body.
 * @throws RetryableResponse for `retry` and `refresh_auth`; ResponseRuleError for `fail`, and when
 *   a rule would retry or ignore a page some of whose records already landed
 */
export function applyBodyRules(input: BodyRuleInput): 'page' | 'ignore' {
  const { response, rules } = input;
  const decision = decide(
    rules,
    {
      status: response.status,
      headers: response.headers,
      get body() {
        return input.body();
      },
    },
    { nowMs: input.nowMs, ...(input.budget ? { budget: input.budget } : {}) },
  );
  if (!decision) return 'page';
  const said = decision.message ?? apiErrorMessage(input.body());
  const detail = said === undefined ? '' : JSON.stringify(response.redact(said));
  if (decision.action === 'fail') throw new ResponseRuleError(response.status, decision.rule.name, detail, response.describe());
  if (input.landedRecords > 0) {
    // The page's first records are in the window's parts already: asking again would land them twice, skipping them would keep half a page.
    const asks = decision.action === 'ignore' ? 'ignores the page' : 'asks for the page again';
    throw new ResponseRuleError(
      response.status,
      decision.rule.name,
      `${asks} after ${input.landedRecords} of its records had landed; the window fails (its retry lands the page whole)`,
      response.describe(),
    );
  }
  if (decision.action === 'ignore') return 'ignore';
  throw new RetryableResponse({
    status: response.status,
    rule: decision.rule.name,
    detail,
    ...(decision.waitMs !== undefined ? { waitMs: decision.waitMs } : {}),
    refreshAuth: decision.action === 'refresh_auth',
  });
}
