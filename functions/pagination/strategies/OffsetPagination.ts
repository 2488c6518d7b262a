import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../expressions/evaluate.js';
import type { PageContext } from '../PaginationStrategy.js';
import { asCount, pagesFor, PositionalPagination } from './PositionalPagination.js';

type Config = Extract<PaginationConfig, { type: 'offset' }>;

/** `?offset=0&limit=100`, `?offset=100&limit=100`, …; with `total_records`, the remaining pages are known up front. */
export function offsetPagination(config: Config): PositionalPagination {
  return new PositionalPagination({
    place: config.in,
    values: (index) => ({ [config.offset_param]: index * config.limit, [config.limit_param]: config.limit }),
    pages(first: PageContext) {
      if (!config.total_records) return undefined;
      const total = asCount(evaluate(config.total_records, first.response.body));
      return total === undefined ? undefined : pagesFor(total, config.limit);
    },
  });
}
