/**
 * Conditions that end paging whatever the strategy, each wrapping any strategy (as Airbyte's
 * StopConditionPaginationStrategyDecorator does): `stop_when` over the response, and whatever the
 * engine decides about a page (an incremental stream whose records passed the window).
 */

import { evaluate, isTruthy } from '../expressions/evaluate.js';
import { headersMatch } from '../http/responseRules.js';
import type { PageContext, PageRequest, PageResponse, PaginationStrategy } from './PaginationStrategy.js';

/** `strategy`, also ending paging after any page where `isLast` holds. */
export function withStopCondition<R extends PageResponse>(strategy: PaginationStrategy<R>, isLast: (page: PageContext<R>) => boolean): PaginationStrategy<R> {
  return new StopCondition(strategy, isLast);
}

/** `strategy`, also ending paging after a page where the JMESPath `expression` is truthy on the body. */
export function withStopWhen<R extends PageResponse>(strategy: PaginationStrategy<R>, expression: string | undefined): PaginationStrategy<R> {
  return expression === undefined ? strategy : withStopCondition(strategy, (page) => isTruthy(evaluate(expression, page.response.body)));
}

/** `strategy`, also ending paging after a page whose response headers all match `conditions` (`stop_when_headers`). */
export function withStopWhenHeaders<R extends PageResponse>(strategy: PaginationStrategy<R>, conditions: Readonly<Record<string, string | boolean>> | undefined): PaginationStrategy<R> {
  return conditions === undefined ? strategy : withStopCondition(strategy, (page) => headersMatch(conditions, page.response.headers));
}

class StopCondition<R extends PageResponse> implements PaginationStrategy<R> {
  constructor(
    private readonly inner: PaginationStrategy<R>,
    private readonly stops: (page: PageContext<R>) => boolean,
  ) {
    if (inner.first) this.first = (base) => inner.first!(base);
    if (inner.plan) this.plan = (first) => inner.plan!(first);
    if (inner.at) this.at = (first, index) => inner.at!(first, index);
  }

  first?: (base: PageRequest) => PageRequest;
  plan?: (first: PageContext<R>) => PageRequest[] | undefined;
  at?: (first: PageRequest, index: number) => PageRequest;

  next(page: PageContext<R>): PageRequest | undefined {
    return this.inner.next(page);
  }

  isLast(page: PageContext<R>): boolean {
    return (this.inner.isLast?.(page) ?? false) || this.stops(page);
  }
}
