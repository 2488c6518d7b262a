import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../expressions/evaluate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';

type Config = Extract<PaginationConfig, { type: 'next_url' }>;

/** The body carries the next page's URL, absolute or relative to the current one. */
export class NextUrlPagination implements PaginationStrategy {
  constructor(private readonly config: Config) {}

  next(page: PageContext): PageRequest | undefined {
    const next = evaluate(this.config.next, page.response.body);
    if (typeof next !== 'string' || next === '') return undefined;
    return { ...page.request, url: new URL(next, page.request.url) };
  }
}
