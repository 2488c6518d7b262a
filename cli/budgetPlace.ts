/**
 * Where a CLI run keeps its source's rate budget: in the DynamoDB table named by
 * APILAKE_BUDGET_TABLE (shared with the deployed functions), else in the local lake folder
 * (shared by every `apilake` process on that lake), else (a lake in S3) in the process.
 */

import { FsLakeStorage, type BudgetChange, type BudgetPlace, type LakeStorage } from '../functions/index.js';

/** The environment variable that names a shared budget table. */
export const BUDGET_TABLE_ENV = 'APILAKE_BUDGET_TABLE';

/** The place of the budget for a run landing into `storage`. */
export function budgetPlace(storage: LakeStorage, env: Readonly<Record<string, string | undefined>> = process.env): BudgetPlace {
  const table = env[BUDGET_TABLE_ENV];
  if (table) return { kind: 'dynamodb', table };
  if (storage instanceof FsLakeStorage) return { kind: 'lake', folder: storage.location };
  return { kind: 'process' };
}

/** The line a run prints when its shared budget cannot be reached, or can again. */
export function describeBudgetChange(change: BudgetChange): string {
  if (change.kind === 'shared') return '  rate budget reachable again: requests draw on the shared budget';
  return `  rate budget unreachable (${change.reason}); this run keeps to its share, ${+change.requestsPerSecond.toFixed(3)} requests/s (rate_limit.expected_workers)`;
}
