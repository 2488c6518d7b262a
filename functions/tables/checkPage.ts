/** A check every writer of a curated table's file makes of a page before keeping any of it. */

import { SinkError } from '../errors.js';
import type { TableSpec } from './tableSpec.js';

/**
 * Refuses a page whose records and typed values do not pair up, before any of it is kept.
 * @throws SinkError naming the table and the record
 */
export function checkPage(spec: TableSpec, page: { readonly data: readonly unknown[]; readonly values: readonly (readonly unknown[])[] }): void {
  if (page.data.length !== page.values.length) {
    throw new SinkError(`a page of ${spec.name} has ${page.data.length} data texts but ${page.values.length} value rows; expected one of each per record`);
  }
  const wrong = page.values.findIndex((values) => values.length !== spec.columns.length);
  if (wrong >= 0) {
    throw new SinkError(`record ${wrong} of a page of ${spec.name} has ${page.values[wrong]!.length} typed values; expected ${spec.columns.length} (one per column)`);
  }
}
