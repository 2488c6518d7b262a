import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../expressions/evaluate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';
import { placeValues } from './placeValues.js';

type Config = Extract<PaginationConfig, { type: 'cursor' }>;

/**
 * The next cursor comes from the body (`meta.next_cursor`, `data[-1].id`); absent, null or "" ends
 * paging. It goes in a query parameter, a body path (GraphQL's `variables.after`) or a header.
 */
export class CursorPagination implements PaginationStrategy {
  constructor(private readonly config: Config) {}

  next(page: PageContext): PageRequest | undefined {
    const cursor = evaluate(this.config.cursor, page.response.body);
    if (cursor === null || cursor === undefined || cursor === '') return undefined;
    if (typeof cursor !== 'string' && typeof cursor !== 'number') return undefined;
    return placeValues(page.request, this.config.in, { [this.config.param]: cursor });
  }
}
