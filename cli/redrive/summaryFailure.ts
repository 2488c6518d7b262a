/** Reads what a re-run returned: an ingest summary whose streams all committed is a success. */

import type { IngestSummary } from '../../functions/index.js';

/** @returns undefined when the summary reports success, else why the re-run failed (a rejected event, or the failed streams). */
export function summaryFailure(resultText: string | undefined): string | undefined {
  const summary = JSON.parse(resultText || '{}') as Partial<IngestSummary> | null;
  if (summary?.trigger === 'rejected') return `rejected: ${summary.error}`;
  const failed = summary?.streams?.filter((s) => s.status === 'failed') ?? [];
  return failed.length > 0 ? failed.map((s) => `${s.stream}: ${s.error}`).join('; ') : undefined;
}
