import type { PageContext, PageRequest, PaginationStrategy } from '../PaginationStrategy.js';
import { placeValues, type ValuePlace } from './placeValues.js';

/** How a positional scheme addresses page `index` (0-based), and how many pages the first response reports. */
export interface Positions {
  /** Where the paging values go (`pagination.in`). */
  readonly place: ValuePlace;
  /** The paging values of page `index`: `{ page: 3 }`, `{ offset: 200, limit: 100 }`. */
  values(index: number): Record<string, number>;
  /** Pages in all, from the first response, or undefined when the API reports no total. */
  pages(first: PageContext): number | undefined;
}

/**
 * Pages addressed by their position (page numbers, offsets): any page's request is known without
 * the one before it, so pages can be fetched ahead, and with a reported total all of them are
 * planned up front. A page without records is the only end signal.
 */
export class PositionalPagination implements PaginationStrategy {
  constructor(private readonly positions: Positions) {}

  isLast(page: PageContext): boolean {
    return page.response.recordCount === 0;
  }

  first(base: PageRequest): PageRequest {
    return this.at(base, 0);
  }

  next(page: PageContext): PageRequest | undefined {
    return this.at(page.request, page.index + 1);
  }

  at(first: PageRequest, index: number): PageRequest {
    return placeValues(first, this.positions.place, this.positions.values(index));
  }

  plan(first: PageContext): PageRequest[] | undefined {
    const pages = this.positions.pages(first);
    if (pages === undefined) return undefined;
    const rest: PageRequest[] = [];
    for (let index = 1; index < pages; index++) rest.push(this.at(first.request, index));
    return rest;
  }
}

/** A non-negative integer count from a response, or undefined when the API did not send one. */
export function asCount(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** Pages needed for `total` records of `size` a page: at least one (the first, already fetched). */
export function pagesFor(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / size));
}
