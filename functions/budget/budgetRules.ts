/**
 * The rules of a shared budget as pure functions over its state: the same decisions the DynamoDB
 * store makes with condition expressions, for stores that update a whole state at once (the lake
 * folder's) and for tests. Each function returns the state after the step and its outcome.
 */

import { EXPIRED_LEASE_MARGIN_MS, type BookRequest, type Booking, type LeaseRequest, type LeaseView, type Leasing } from './BudgetStore.js';

/** The whole budget of one source. */
export interface BudgetState extends LeaseView {
  /** The theoretical arrival time of the next free slot; absent before the first booking. */
  readonly tat?: number;
}

/** A budget nobody has used yet. */
export const EMPTY_BUDGET: BudgetState = { leases: {}, workers: {}, pausedUntil: 0 };

/**
 * Books slots at the end of the queue when it reaches no further than `latest`, or from
 * `earliest` when the queue is idle (its next free slot is already past); slots left unbooked in
 * between are lost, which only spends less. A pause moves the queue's end to the pause's end.
 */
export function bookSlots(state: BudgetState, request: BookRequest): { state: BudgetState; booking: Booking } {
  const inc = request.count * request.intervalMs;
  const tat = state.tat;
  if (tat !== undefined && tat >= request.earliest && tat <= request.latest) return { state: { ...state, tat: tat + inc }, booking: { kind: 'booked', first: tat } };
  if (tat === undefined || tat < request.earliest) return { state: { ...state, tat: request.earliest + inc }, booking: { kind: 'booked', first: request.earliest } };
  return { state, booking: { kind: 'behind', nextFree: tat } };
}

/**
 * Grants a lease while fewer than `limit` are held (or renews one still held under the same id)
 * and the source is not paused; a refusal clears leases expired by more than the margin, so a
 * crashed holder frees its lease.
 */
export function takeLease(state: BudgetState, request: LeaseRequest): { state: BudgetState; leasing: Leasing } {
  const open = state.pausedUntil <= request.now;
  if (open && (Object.keys(state.leases).length < request.limit || request.id in state.leases)) {
    const next: BudgetState = {
      ...state,
      leases: { ...state.leases, [request.id]: request.expiresAt },
      workers: { ...state.workers, [request.worker]: request.workerExpiresAt },
    };
    return { state: next, leasing: { kind: 'leased', view: next } };
  }
  const leases = Object.fromEntries(Object.entries(state.leases).filter(([, expiry]) => expiry + EXPIRED_LEASE_MARGIN_MS >= request.now));
  const cleared: BudgetState = { ...state, leases };
  if (open && Object.keys(leases).length < Object.keys(state.leases).length) return takeLease(cleared, request);
  return { state: cleared, leasing: { kind: 'refused', view: cleared } };
}

/** Ends a lease (ending one that is gone does nothing) and forgets the workers named. */
export function releaseLease(state: BudgetState, leaseId: string, staleWorkers: readonly string[]): BudgetState {
  const { [leaseId]: _ended, ...leases } = state.leases;
  const workers = Object.fromEntries(Object.entries(state.workers).filter(([id]) => !staleWorkers.includes(id)));
  return { ...state, leases, workers };
}

/** Holds the source until `untilMs`: leases are refused before it and the queue starts no earlier. */
export function pauseBudget(state: BudgetState, untilMs: number): BudgetState {
  return { ...state, pausedUntil: Math.max(state.pausedUntil, untilMs), tat: state.tat === undefined ? untilMs : Math.max(state.tat, untilMs) };
}
