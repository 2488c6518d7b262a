/**
 * Where a source's requests draw their rate and concurrency from. The HTTP client asks it before
 * every request and tells it when the server asks to wait; whether the budget lives in this
 * process or is shared with every other invocation of the source is the budget's business.
 */

/** Ends one request's hold on the budget; calling it again does nothing. */
export type BudgetRelease = () => void;

/** The rate and concurrency limits one source's requests draw from. */
export interface RateBudget {
  /**
   * Waits until one more request may be sent and resolves with the function that ends it (call
   * it when the response is done). Rejects with the signal's reason, holding nothing, when the
   * signal aborts while waiting.
   */
  acquire(signal?: AbortSignal): Promise<BudgetRelease>;
  /** Holds every request of the source until `epochMs`: the server asked to wait (Retry-After, a spent quota). */
  pauseUntil(epochMs: number): void;
  /** Lets what the budget still has in flight finish (a shared budget's lease releases); never rejects. */
  close(): Promise<void>;
}
