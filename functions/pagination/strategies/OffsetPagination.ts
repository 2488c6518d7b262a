import type { PaginationConfig } from '../../config/sourceSchema.js';
import { evaluate } from '../../records/evaluate.js';
import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';
import { placeValues } from './placeValues.js';
import { asCount } from './PageNumberPagination.js';

type Config = Extract<PaginationConfig, { type: 'offset' }>;

/** `?offset=0&limit=100`, `?offset=100&limit=100`, …; with `total_records`, the remaining pages are known up front. */
export class OffsetPagination implements PaginationStrategy {
  /** Page numbers and offsets have no other end signal than a page without records. */
  readonly endsOnEmptyPage = true;

  constructor(private readonly config: Config) {}

  first(base: PageRequest): PageRequest {
    return this.request(base, 0);
  }

  next(page: PageContext): PageRequest | undefined {
    return this.request(page.request, (page.index + 1) * this.config.limit);
  }

  at(first: PageRequest, index: number): PageRequest {
    return this.request(first, index * this.config.limit);
  }

  plan(first: PageContext): PageRequest[] | undefined {
    if (!this.config.total_records) return undefined;
    const total = asCount(evaluate(this.config.total_records, first.response.body));
    if (total === undefined) return undefined;
    const rest: PageRequest[] = [];
    for (let offset = this.config.limit; offset < total; offset += this.config.limit) rest.push(this.request(first.request, offset));
    return rest;
  }

  private request(base: PageRequest, offset: number): PageRequest {
    return placeValues(base, this.config.in, { [this.config.offset_param]: offset, [this.config.limit_param]: this.config.limit });
  }
}
