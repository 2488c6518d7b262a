/** Builds a source's rate budget where the caller says it lives: this process, DynamoDB, or the local lake folder. */

import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Clock } from '../clock.js';
import type { SourceDefinition } from '../config/sourceSchema.js';
import { LocalRateBudget } from '../http/LocalRateBudget.js';
import type { RateBudget } from '../http/RateBudget.js';
import type { BudgetStore } from './BudgetStore.js';
import { DynamoBudgetStore } from './DynamoBudgetStore.js';
import { LakeBudgetStore } from './LakeBudgetStore.js';
import { SharedRateBudget, type BudgetChange, type SharedBudgetTuning } from './SharedRateBudget.js';

/** Where a source's rate budget is kept. */
export type BudgetPlace =
  /** In this process only: every process has the whole of `rate_limit`. */
  | { readonly kind: 'process' }
  /** In a DynamoDB table, shared by every invocation of the source. */
  | { readonly kind: 'dynamodb'; readonly table: string; readonly client?: DynamoDBClient }
  /** In the local lake folder, shared by every `apilake` process on that lake. */
  | { readonly kind: 'lake'; readonly folder: string }
  /** In any store (tests). */
  | { readonly kind: 'store'; readonly store: BudgetStore };

/** Seams of the budget. */
export interface RateBudgetOptions {
  readonly clock?: Clock;
  readonly random?: () => number;
  /** Told when a shared budget falls back to this run's share, and when it is shared again. */
  readonly onChange?: (change: BudgetChange) => void;
  readonly tuning?: Partial<SharedBudgetTuning>;
}

/** The budget of `source`'s requests, kept at `place`. */
export function createRateBudget(source: SourceDefinition, place: BudgetPlace, options: RateBudgetOptions = {}): RateBudget {
  const limits = source.rate_limit;
  if (place.kind === 'process') return new LocalRateBudget({ requestsPerSecond: limits.requests_per_second, burst: limits.burst, concurrency: limits.concurrency, clock: options.clock });
  const store =
    place.kind === 'store'
      ? place.store
      : place.kind === 'lake'
        ? new LakeBudgetStore(place.folder, source.name)
        : new DynamoBudgetStore({ table: place.table, source: source.name, ...(place.client ? { client: place.client } : {}) });
  return new SharedRateBudget({
    store,
    ...(limits.requests_per_second !== undefined ? { requestsPerSecond: limits.requests_per_second } : {}),
    concurrency: limits.concurrency,
    expectedWorkers: limits.expected_workers,
    requestTimeoutMs: source.timeout_ms,
    ...options,
  });
}
