/** How long to wait between two reads of a durable execution's status: a bounded exponential backoff. */

/** The backoff of {@link pollDelayMs}. */
export const POLL_BACKOFF = {
  /** The first wait: a short run is reported soon after it ends. */
  firstMs: 2_000,
  factor: 2,
  /** The longest wait: a run of hours is read at most twice a minute. */
  maxMs: 30_000,
} as const;

/** The wait after the `poll`-th read (0 = the first): 2 s, 4 s, 8 s, 16 s, then 30 s. */
export function pollDelayMs(poll: number): number {
  return Math.min(POLL_BACKOFF.maxMs, POLL_BACKOFF.firstMs * POLL_BACKOFF.factor ** Math.max(0, poll));
}
