import type { PaginationStrategy } from '../PaginationStrategy.js';

/** A single request per window. */
export class NoPagination implements PaginationStrategy {
  first = (base: Parameters<PaginationStrategy['first']>[0]) => base;
  next = () => undefined;
}
