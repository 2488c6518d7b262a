import type { PaginationConfig } from '../../config/sourceSchema.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';
import { placeValues } from './placeValues.js';

type Config = Extract<PaginationConfig, { type: 'header_cursor' }>;

/**
 * The next cursor comes from a response header (Salesforce Bulk API 2.0's `Sforce-Locator`), for
 * bodies that carry no cursor (CSV results). A missing or empty header, or the text `null` (what
 * Salesforce sends after the last set of results), ends paging.
 */
export class HeaderCursorPagination implements PaginationStrategy {
  constructor(private readonly config: Config) {}

  next(page: PageContext): PageRequest | undefined {
    const cursor = page.response.headers.get(this.config.header)?.trim();
    if (cursor === undefined || cursor === '' || cursor === 'null') return undefined;
    return placeValues(page.request, this.config.in, { [this.config.param]: cursor });
  }
}
