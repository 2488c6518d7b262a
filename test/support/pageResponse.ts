/** Builds the page a fetch of records would produce, for pagination tests without a server. */

import { parsePage } from '../../functions/body/RecordParser.js';
import type { FetchedPage } from '../../functions/engine/fetchPage.js';

/** A 200 response whose body (for expressions) is `body` and whose records are `records`. */
export function pageResponse(url: URL, body: unknown, records: readonly unknown[], headers: Record<string, string> = {}): FetchedPage {
  const parsed = parsePage(Buffer.from(JSON.stringify(records)), { records: '@' });
  return { status: 200, headers: new Headers(headers), url, body, batches: [parsed.records], recordCount: parsed.recordCount, stats: parsed.stats };
}

/** The records of a page, parsed. */
export function recordValues(response: FetchedPage): unknown[] {
  return response.batches.flatMap((batch) => Array.from({ length: batch.count }, (_, i) => batch.value(i)));
}
