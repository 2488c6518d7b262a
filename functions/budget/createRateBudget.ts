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
  /** In this process only: every run has the whole of `rate_limit`. */
  | { readonly kind: 'process' }
  /** In a DynamoDB table, shared by every run of the source. */
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

/**
 * The budget of `source`'s requests, kept at `place`. A source without `requests_per_second` has
 * no rate to share: its budget is the process's (the concurrency cap is always per run).
 */
export function createRateBudget(source: SourceDefinition, place: BudgetPlace, options: RateBudgetOptions = {}): RateBudget {
  const limits = source.rate_limit;
  if (place.kind === 'process' || limits.requests_per_second === undefined) {
    return new LocalRateBudget({ requestsPerSecond: limits.requests_per_second, burst: limits.burst, concurrency: limits.concurrency, clock: options.clock });
  }
  const store =
    place.kind === 'store'
      ? place.store
      : place.kind === 'lake'
        ? new LakeBudgetStore(place.folder, source.name)
        : new DynamoBudgetStore({ table: place.table, source: source.name, ...(place.client ? { client: place.client } : {}) });
  return new SharedRateBudget({ store, requestsPerSecond: limits.requests_per_second, concurrency: limits.concurrency, expectedWorkers: limits.expected_workers, ...options });
}
