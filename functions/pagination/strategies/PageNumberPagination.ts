import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../records/evaluate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';
import { placeValues } from './placeValues.js';

type Config = Extract<PaginationConfig, { type: 'page_number' }>;

/** `?page=1`, `?page=2`, …; with `total_pages` or `total_records`, the remaining pages are known up front. */
export class PageNumberPagination implements PaginationStrategy {
  /** Page numbers and offsets have no other end signal than a page without records. */
  readonly endsOnEmptyPage = true;

  constructor(private readonly config: Config) {}

  first(base: PageRequest): PageRequest {
    return this.request(base, this.config.start);
  }

  next(page: PageContext): PageRequest | undefined {
    return this.request(page.request, this.config.start + page.index + 1);
  }

  at(first: PageRequest, index: number): PageRequest {
    return this.request(first, this.config.start + index);
  }

  plan(first: PageContext): PageRequest[] | undefined {
    const pages = this.totalPages(first);
    if (pages === undefined) return undefined;
    const rest: PageRequest[] = [];
    for (let n = 1; n < pages; n++) rest.push(this.request(first.request, this.config.start + n));
    return rest;
  }

  private totalPages(first: PageContext): number | undefined {
    if (this.config.total_pages) return asCount(evaluate(this.config.total_pages, first.response.body));
    if (this.config.total_records) {
      const total = asCount(evaluate(this.config.total_records, first.response.body));
      const size = this.config.page_size ?? first.response.recordCount;
      if (total === undefined || size === 0) return total === 0 ? 1 : undefined;
      return Math.max(1, Math.ceil(total / size));
    }
    return undefined;
  }

  private request(base: PageRequest, page: number): PageRequest {
    const params: Record<string, number> = { [this.config.param]: page };
    if (this.config.page_size_param && this.config.page_size !== undefined) params[this.config.page_size_param] = this.config.page_size;
    return placeValues(base, this.config.in, params);
  }
}

/** A non-negative integer count from a response, or undefined when the API did not send one. */
export function asCount(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}
