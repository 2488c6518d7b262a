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

/** How long a part may take to fill when a window lands in slices, one an invocation of a given length. */
export interface PartTimeLimits {
  /** The invocation's length (the function's timeout), in ms. */
  readonly invocationMs: number;
  /**
   * What a slice has before its deadline: the invocation less the deadline margin, in ms. A part
   * slower than this reaches no boundary in any slice, and the window fails (PartTooSlowError).
   */
  readonly sliceMs: number;
  /**
   * The slowest part for which the reserve of a slice that starts with the whole invocation is
   * still no more than the invocation ({@link sliceReserveMs}), in ms: the slice then lands one
   * part with room for one {@link PART_TIME_SPARE} times slower. A slower part leaves no such
   * room, and a part slower again than the slowest seen fails its slice.
   */
  readonly partMs: number;
  /** A fifth of the invocation ({@link SLICE_RESERVE_SHARE}), in ms: windows whose parts fill within it take the fewest invocations. */
  readonly fewestInvocationsMs: number;
}

/**
 * The part fill times a deployed function allows, from the same rule its slices stop by: what a
 * local run compares the pace of its parts with.
 * @param deadlineMarginMs what each slice keeps for finishing its files and stopping
 */
export function partTimeLimits(invocationMs: number, deadlineMarginMs: number): PartTimeLimits {
  const sliceMs = Math.max(0, invocationMs - deadlineMarginMs);
  // The inverse of the reserve's part term: PART_TIME_SPARE × partMs + deadlineMarginMs = invocationMs.
  return { invocationMs, sliceMs, partMs: sliceMs / PART_TIME_SPARE, fewestInvocationsMs: invocationMs * SLICE_RESERVE_SHARE };
}
