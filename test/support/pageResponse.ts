/** Builds the PageResponse a page of records would produce, for pagination tests without a server. */

import type { PageResponse } from '../../functions/http/HttpClient.js';
import { parsePage } from '../../functions/records/RecordParser.js';

/** A 200 response whose body (for expressions) is `body` and whose records are `records`. */
export function pageResponse(url: URL, body: unknown, records: readonly unknown[], headers: Record<string, string> = {}): PageResponse {
  const parsed = parsePage(Buffer.from(JSON.stringify(records)), { records: '@' });
  return { status: 200, headers: new Headers(headers), url, bytes: 0, body, batches: [parsed.records], recordCount: parsed.recordCount, stats: parsed.stats };
}

/** The records of a page response, parsed. */
export function recordValues(response: PageResponse): unknown[] {
  return response.batches.flatMap((batch) => Array.from({ length: batch.count }, (_, i) => batch.value(i)));
}
