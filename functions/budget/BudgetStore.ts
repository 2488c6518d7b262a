/**
 * Where a shared rate budget keeps its slot queue so that every run of the source reaches it.
 * Each operation is one atomic step of the store (a conditional write), so concurrent runs never
 * lose an update; the rules are those of slotQueue.ts.
 */

import type { BookRequest, Booking } from './slotQueue.js';

/** The shape of a DynamoDB budget table: its partition key (the source's name) and its TTL attribute (epoch seconds). */
export const BUDGET_TABLE = { partitionKey: 'source', ttlAttribute: 'expires_at' } as const;

/** Counters of a store's calls (what a DynamoDB table bills). */
export interface StoreCalls {
  writes: number;
  reads: number;
}

/** A store of one source's slot queue. Any failure rejects: the budget then falls back to its share. */
export interface BudgetStore {
  /** Where the budget is kept, for messages. */
  readonly location: string;
  /** Writes and reads sent to the store so far. */
  readonly calls: StoreCalls;
  /** Books slots at the end of the queue (`bookSlots` in slotQueue.ts). */
  book(request: BookRequest): Promise<Booking>;
  /** Holds the whole source until `untilMs`: no slot starts before it. */
  pause(untilMs: number): Promise<void>;
}
