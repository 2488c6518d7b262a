/**
 * Response rules as data plus one pure function: {@link decide} finds the first rule whose `when`
 * matches a response (status, headers, body) and says what to do, with the wait and the API's own
 * message worked out. It sees a status, headers and a parsed body, and knows nothing of records:
 * the HTTP client applies it to responses that are not 2xx, the page reader to 2xx bodies.
 */

import type { BudgetConfig, ResponseRuleConfig, RuleAction } from '../config/responseRuleSchema.js';
import { headerPattern } from '../config/checkResponseRules.js';
import { evaluate, isTruthy } from '../expressions/evaluate.js';
import { memoizeByText } from '../expressions/memoizeByText.js';
import { budgetFromBody, budgetWaitMs, parseTimeValue } from './apiBudget.js';
import type { ResponseHeaders } from './Transport.js';

/** A rule with the name messages give it, e.g. `response_rules[0] of stream "orders"`. */
export interface ResponseRule extends ResponseRuleConfig {
  readonly name: string;
}

/** What a rule looks at. `body` is read only when a rule asks for it (a getter may parse it then). */
export interface ResponseFacts {
  readonly status: number;
  readonly headers: ResponseHeaders;
  /** Parsed JSON; a body that is not JSON is its text. */
  readonly body: unknown;
}

/** What the first matching rule says. */
export interface RuleDecision {
  readonly action: RuleAction;
  readonly rule: ResponseRule;
  /** `retry`: the wait its `wait` gives, in ms; undefined: the retry policy's backoff. */
  readonly waitMs?: number;
  /** The API's message from the rule's `message` expression, unmasked: callers mask it before quoting. */
  readonly message?: string;
}

/** What {@link decide} needs besides the facts. */
export interface DecideContext {
  readonly nowMs: number;
  /** `rate_limit.budget`, for `wait: budget`. */
  readonly budget?: BudgetConfig;
}

/** A stream's rules first, then the source's, each named for messages. */
export function rulesFor(sourceRules: readonly ResponseRuleConfig[], streamRules: readonly ResponseRuleConfig[], stream: string): ResponseRule[] {
  return [
    ...streamRules.map((rule, i) => ({ ...rule, name: `response_rules[${i}] of stream "${stream}"` })),
    ...sourceRules.map((rule, i) => ({ ...rule, name: `response_rules[${i}] of the source` })),
  ];
}

/** The first rule that matches, and what it says; undefined when none does (the built-in handling applies). */
export function decide(rules: readonly ResponseRule[], facts: ResponseFacts, context: DecideContext): RuleDecision | undefined {
  for (const rule of rules) {
    if (!matches(rule, facts)) continue;
    const waitMs = rule.action === 'retry' ? waitOf(rule, facts, context) : undefined;
    const message = rule.message === undefined ? undefined : textOf(safeEvaluate(rule.message, facts.body));
    return { action: rule.action, rule, ...(waitMs !== undefined ? { waitMs } : {}), ...(message !== undefined ? { message } : {}) };
  }
  return undefined;
}

/** Whether any rule could match a response of `status` (the reader skips reading the body for rules otherwise). */
export function mayMatchStatus(rules: readonly ResponseRule[], status: number): boolean {
  return rules.some((rule) => statusMatches(rule.when.status, status));
}

function matches(rule: ResponseRule, facts: ResponseFacts): boolean {
  const { when } = rule;
  if (!statusMatches(when.status, facts.status)) return false;
  if (when.headers !== undefined && !headersMatch(when.headers, facts.headers)) return false;
  return when.body === undefined || isTruthy(safeEvaluate(when.body, facts.body));
}

/**
 * Whether every header condition holds (names in any case): a text is the exact value (trimmed),
 * `/…/` or `/…/i` a regular expression the value must match, `true` present, `false` absent.
 */
export function headersMatch(conditions: Readonly<Record<string, string | boolean>>, headers: ResponseHeaders): boolean {
  return Object.entries(conditions).every(([name, expected]) => headerMatches(expected, headers.get(name)));
}

function statusMatches(expected: ResponseRuleConfig['when']['status'], status: number): boolean {
  if (expected === undefined) return true;
  const one = (e: number | string) => (typeof e === 'number' ? e === status : Number(e[0]) === Math.floor(status / 100));
  return Array.isArray(expected) ? expected.some(one) : one(expected);
}

const patternOf = memoizeByText((text) => {
  const pattern = headerPattern(text);
  return pattern ? new RegExp(pattern.source, pattern.flags) : null;
});

function headerMatches(expected: string | boolean, value: string | null): boolean {
  if (typeof expected === 'boolean') return expected === (value !== null);
  if (value === null) return false;
  const pattern = patternOf(expected);
  return pattern ? pattern.test(value) : value.trim() === expected;
}

function waitOf(rule: ResponseRule, facts: ResponseFacts, context: DecideContext): number | undefined {
  const { wait } = rule;
  if (wait === undefined) return undefined;
  if (wait.startsWith('header:')) {
    const value = facts.headers.get(wait.slice('header:'.length));
    return value === null ? undefined : parseTimeValue(value.trim(), 's', context.nowMs);
  }
  if (wait === 'budget') {
    const reading = context.budget ? budgetFromBody(context.budget, facts.body, context.nowMs) : undefined;
    return reading ? budgetWaitMs(reading, context.nowMs) : undefined;
  }
  return parseTimeValue(safeEvaluate(wait, facts.body), rule.wait_unit, context.nowMs);
}

/** A message as text: strings as they are, other values as JSON; nothing for null. */
function textOf(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** JMESPath over a body that may be anything (text, an error page): a type error is "no match". */
function safeEvaluate(expression: string, body: unknown): unknown {
  try {
    return evaluate(expression, body ?? null);
  } catch {
    return null;
  }
}
