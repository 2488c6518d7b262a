/**
 * When a slice of a durable window stops asking for pages: early enough that the part it is
 * filling still reaches its boundary before the invocation's deadline.
 */

import type { PartPace } from '../engine/landPages.js';

/** A slice stops asking for pages when less than this share of its invocation's time is left, at the least. */
export const SLICE_RESERVE_SHARE = 0.2;
/** Room for a part slower than the slowest seen: the reserve holds this many times its fill time. */
export const PART_TIME_SPARE = 1.5;

/** What the reserve depends on. */
export interface ReserveInput {
  /** Time the invocation had left when the slice began, in ms. */
  readonly sliceStartRemainingMs: number;
  /** What the slice keeps for finishing its files and stopping (the deadline margin), in ms. */
  readonly deadlineMarginMs: number;
  readonly pace: PartPace;
}

/**
 * How much of the invocation a slice keeps in reserve, in ms: it stops asking for pages once less
 * is left. A fifth of the invocation, or the time the slowest part of the window took to fill
 * (with {@link PART_TIME_SPARE} to spare) plus the deadline margin when that is longer: a part
 * that fills slower than a fifth of an invocation must be started early enough to end in time,
 * and a slice whose remaining time is short of one part stops at its first boundary.
 */
export function sliceReserveMs({ sliceStartRemainingMs, deadlineMarginMs, pace }: ReserveInput): number {
  // The part filling now has taken at least as long as it has been filling.
  const slowest = Math.max(pace.longestPartMs ?? 0, pace.currentPartMs);
  return Math.max(2 * deadlineMarginMs, sliceStartRemainingMs * SLICE_RESERVE_SHARE, slowest * PART_TIME_SPARE + deadlineMarginMs);
}
