/**
 * Checks `response_rules` and `rate_limit.budget` for what their schema cannot express: JMESPath
 * syntax, header names and patterns, a wait that fits its action, a budget the rules rely on.
 */

import { HEADER_NAME } from './headerValue.js';
import type { BudgetConfig, ResponseRuleConfig } from './responseRuleSchema.js';

type Path = readonly (string | number)[];
type Add = (path: Path, message: string) => void;
/** Reports a JMESPath syntax problem at `path` (checkSource's). */
type CheckJmespath = (expression: string, path: (string | number)[], add: Add) => void;

/** What the rules of a source may rely on. */
export interface RuleContext {
  /** The source declares `rate_limit.budget`. */
  readonly budget: boolean;
  /** The source's auth type. */
  readonly auth: string | undefined;
}

/** Auth types whose token can be refreshed. */
const REFRESHABLE = new Set(['oauth2_client_credentials', 'oauth2_refresh_token', 'jwt_bearer']);

/** The text of a `/…/` or `/…/i` header pattern, or undefined for an exact value. */
export function headerPattern(value: string): { source: string; flags: string } | undefined {
  const match = /^\/(.*)\/(i?)$/s.exec(value);
  return match ? { source: match[1]!, flags: match[2]! } : undefined;
}

/** Every problem of one list of rules at `path`. */
export function checkResponseRules(rules: readonly ResponseRuleConfig[], path: Path, context: RuleContext, checkJmespath: CheckJmespath, add: Add): void {
  rules.forEach((rule, i) => {
    const at = (...rest: (string | number)[]) => [...path, i, ...rest];
    if (rule.when.body !== undefined) checkJmespath(rule.when.body, at('when', 'body'), add);
    if (rule.when.headers) checkHeaderConditions(rule.when.headers, at('when', 'headers'), add);
    if (rule.message !== undefined) checkJmespath(rule.message, at('message'), add);
    if (rule.action === 'refresh_auth' && !REFRESHABLE.has(context.auth ?? 'none')) {
      add(at('action'), `refresh_auth needs an auth whose token can be refreshed (${[...REFRESHABLE].join(', ')}); auth.type is ${context.auth ?? 'none'}`);
    }
    if (rule.wait === undefined) return;
    if (rule.action !== 'retry') {
      add(at('wait'), `wait applies to action: retry only (this rule's action is ${rule.action})`);
      return;
    }
    if (rule.wait.startsWith('header:')) {
      const name = rule.wait.slice('header:'.length);
      if (!HEADER_NAME.test(name)) add(at('wait'), `"${name}" is not a valid header name: write header:<name>, e.g. header:retry-after`);
    } else if (rule.wait === 'budget') {
      if (!context.budget) add(at('wait'), 'wait: budget needs rate_limit.budget, which says how to read the budget from the body');
    } else checkJmespath(rule.wait, at('wait'), add);
  });
}

/** Every problem of header conditions (a rule's `when.headers`, `stop_when_headers`) at `path`: names, and patterns that do not compile. */
export function checkHeaderConditions(conditions: Readonly<Record<string, string | boolean>>, path: Path, add: Add): void {
  for (const [name, value] of Object.entries(conditions)) {
    if (!HEADER_NAME.test(name)) add([...path, name], `"${name}" is not a valid header name (letters, digits and !#$%&'*+.^_\`|~- only)`);
    const pattern = typeof value === 'string' ? headerPattern(value) : undefined;
    if (pattern) {
      try {
        new RegExp(pattern.source, pattern.flags);
      } catch (error) {
        add([...path, name], `"${value}" is not a valid regular expression: ${(error as Error).message}`);
      }
    }
  }
}

/** Every problem of `rate_limit.budget` at `path`. */
export function checkBudget(budget: BudgetConfig, path: Path, checkJmespath: CheckJmespath, add: Add): void {
  for (const field of ['remaining', 'restore_per_second', 'reset', 'cost', 'maximum'] as const) {
    const expression = budget[field];
    if (expression !== undefined) checkJmespath(expression, [...path, field], add);
  }
  if ((budget.restore_per_second === undefined) === (budget.reset === undefined)) {
    add(path, 'give either restore_per_second (a budget that comes back continuously) or reset (one that is whole again at a time), not both or neither');
  }
}
