import type { PaginationStrategy } from '../PaginationStrategy.js';

/** A single request per window. */
export class NoPagination implements PaginationStrategy {
  next = () => undefined;
}
