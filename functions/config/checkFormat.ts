/** Checks that a stream's paging reads only what its `format` gives it (checkSource runs it). */

import type { FormatConfig } from './formatSchema.js';

type Path = readonly (string | number)[];
type Add = (path: Path, message: string) => void;

/** The paging fields that evaluate JMESPath on a response body, which only a JSON body is. */
const BODY_FIELDS = ['stop_when', 'cursor', 'next', 'total_pages', 'total_records'] as const;

/**
 * Reports every paging field that reads the response body when the body is not JSON: a CSV, JSON
 * Lines or XML page has no document to evaluate it on, so paging would end after the first page.
 * Such a stream pages by page number, offset (both end on an empty page), a Link header or a
 * header cursor.
 */
export function checkFormatPaging(format: FormatConfig | undefined, pagination: Record<string, unknown> | undefined, at: Path, add: Add): void {
  if (!format || format.type === 'json' || !pagination) return;
  const why = `a ${format.type} body is not one JSON document to evaluate it on`;
  if (pagination.type === 'cursor') add([...at, 'type'], `cursor paging reads the next cursor from the body: ${why}; use header_cursor, link_header, page_number or offset`);
  if (pagination.type === 'next_url') add([...at, 'type'], `next_url paging reads the next URL from the body: ${why}; use link_header, header_cursor, page_number or offset`);
  for (const field of BODY_FIELDS) {
    if (field === 'cursor' || field === 'next') continue;
    if (pagination[field] !== undefined) add([...at, field], `${field} is evaluated on the response body: ${why}`);
  }
}
