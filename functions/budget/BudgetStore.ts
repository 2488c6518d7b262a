/**
 * What a shared rate budget keeps where every invocation of the source reaches it: the queue of
 * request slots (the theoretical arrival time of the next free slot, GCRA's `tat`), the leases of
 * requests in flight, the workers seen lately, and a pause the server asked for. Every operation
 * is one atomic step of the store (a conditional write), so concurrent invocations never lose an
 * update; the rules they follow are the pure functions of budgetRules.ts.
 */

/** Ask for `count` slots `intervalMs` apart. */
export interface BookRequest {
  readonly count: number;
  readonly intervalMs: number;
  /** The first slot is at or after this (the caller's now plus the time the answer takes). */
  readonly earliest: number;
  /** Book nothing when the queue's next free slot lies past this (the caller would wait too long). */
  readonly latest: number;
}

/** The outcome of a {@link BookRequest}. */
export type Booking =
  /** Slots `first`, `first + intervalMs`, … are this caller's. */
  | { readonly kind: 'booked'; readonly first: number }
  /** The queue is booked until `nextFree`, past `latest`: nothing was booked. */
  | { readonly kind: 'behind'; readonly nextFree: number };

/** Ask for a lease: one request in flight, until it ends or `expiresAt`. Asking again under a held id renews it. */
export interface LeaseRequest {
  /** Unique per request. */
  readonly id: string;
  readonly expiresAt: number;
  /** Leases allowed at once (the source's `concurrency`). */
  readonly limit: number;
  readonly now: number;
  /** The caller's worker id, recorded as active until `workerExpiresAt`. */
  readonly worker: string;
  readonly workerExpiresAt: number;
}

/** Leases, workers and pause as the store holds them. */
export interface LeaseView {
  /** Lease id → expiry (epoch ms). */
  readonly leases: Readonly<Record<string, number>>;
  /** Worker id → until when it counts as active (epoch ms). */
  readonly workers: Readonly<Record<string, number>>;
  /** Epoch ms; 0 when never paused. */
  readonly pausedUntil: number;
}

/** The outcome of a {@link LeaseRequest}: refused when all leases are taken or the source is paused. */
export type Leasing = { readonly kind: 'leased'; readonly view: LeaseView } | { readonly kind: 'refused'; readonly view: LeaseView };

/** Counters of a store's calls. */
export interface StoreCalls {
  writes: number;
  reads: number;
}

/** A store for one source's shared budget. Any failure rejects: the budget then falls back to its share. */
export interface BudgetStore {
  /** Where the budget is kept, for messages. */
  readonly location: string;
  /** Writes and reads sent to the store so far (what a DynamoDB table bills). */
  readonly calls: StoreCalls;
  book(request: BookRequest): Promise<Booking>;
  /** Takes a lease; a refusal first clears leases that expired long ago (their holders died). */
  lease(request: LeaseRequest): Promise<Leasing>;
  /** The leases as they are, read without writing (polled while the leases are all taken). */
  peek(): Promise<LeaseView>;
  /** Ends a lease, and forgets workers that stopped long ago. */
  release(leaseId: string, staleWorkers: readonly string[]): Promise<void>;
  /** Holds the whole source until `untilMs`: no lease is granted and no slot booked before it. */
  pause(untilMs: number): Promise<void>;
}

/** A lease whose expiry is older than this is cleared by whoever is refused: clocks of different hosts may differ this much. */
export const EXPIRED_LEASE_MARGIN_MS = 2_000;

/** Lease ids not expired (with the margin) at `now`. */
export function liveLeases(view: LeaseView, now: number): string[] {
  return Object.keys(view.leases).filter((id) => view.leases[id]! + EXPIRED_LEASE_MARGIN_MS >= now);
}

/** Workers active at `now`. */
export function activeWorkers(view: LeaseView, now: number): string[] {
  return Object.keys(view.workers).filter((id) => view.workers[id]! >= now);
}
