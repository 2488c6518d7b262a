import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../expressions/evaluate.js';
import type { PageContext } from '../PaginationStrategy.js';
import { asCount, pagesFor, PositionalPagination } from './PositionalPagination.js';

type Config = Extract<PaginationConfig, { type: 'page_number' }>;

/** `?page=1`, `?page=2`, …; with `total_pages` or `total_records`, the remaining pages are known up front. */
export function pageNumberPagination(config: Config): PositionalPagination {
  return new PositionalPagination({
    place: config.in,
    values(index) {
      const values: Record<string, number> = { [config.param]: config.start + index };
      if (config.page_size_param && config.page_size !== undefined) values[config.page_size_param] = config.page_size;
      return values;
    },
    pages(first: PageContext) {
      if (config.total_pages) return asCount(evaluate(config.total_pages, first.response.body));
      if (!config.total_records) return undefined;
      const total = asCount(evaluate(config.total_records, first.response.body));
      const size = config.page_size ?? first.response.recordCount;
      if (total === undefined || size === 0) return total === 0 ? 1 : undefined;
      return pagesFor(total, size);
    },
  });
}
