/**
 * Paces a client's requests by the budget the API itself reports (RateLimit headers, or a body
 * read by `rate_limit.budget`), on top of the source's own rate budget. It counts the requests in
 * flight because the API may not have counted them yet when it reports what is left.
 */

import type { Clock } from '../clock.js';
import type { BudgetConfig } from '../config/responseRuleSchema.js';
import { budgetFromBody, budgetFromHeaders, budgetInRequests, type BudgetReading } from './apiBudget.js';
import { TokenBucket } from './TokenBucket.js';
import type { ResponseHeaders } from './Transport.js';

/** What an {@link ApiBudgetPacer} needs. */
export interface ApiBudgetPacerOptions {
  readonly clock: Clock;
  /** A window's reset further than this from now is capped here: a longer wait is the retry policy's to refuse. */
  readonly maxDelayMs: number;
  /** How to read the budget from a body. @default budgets in headers only */
  readonly budget?: BudgetConfig;
}

/** The API's reported budget, as a token bucket the client's requests take from. */
export class ApiBudgetPacer {
  private readonly bucket: TokenBucket;
  /** Requests sent whose response has not arrived yet. */
  private inFlight = 0;

  constructor(private readonly options: ApiBudgetPacerOptions) {
    // Unlimited until a response reports a budget.
    this.bucket = new TokenBucket({ ratePerSecond: Number.POSITIVE_INFINITY, clock: options.clock });
  }

  /** The body budget this pacer reads, for response rules that wait for it. */
  get budget(): BudgetConfig | undefined {
    return this.options.budget;
  }

  /** Counts a request as in flight until the returned function is called (its response arrived or it failed). */
  enter(): () => void {
    this.inFlight++;
    return () => {
      this.inFlight--;
    };
  }

  /** Waits until the reported budget holds one request. @throws what the bucket throws when `signal` aborts */
  take(signal?: AbortSignal): Promise<void> {
    return this.bucket.take(signal);
  }

  /** Paces the requests to come by the budget a response's headers report (none: nothing changes). */
  observeHeaders(headers: ResponseHeaders): void {
    this.note(budgetFromHeaders(headers, this.options.clock.now()));
  }

  /** Paces the requests to come by the budget a body reports through `rate_limit.budget` (none: nothing changes). */
  observeBody(body: unknown): void {
    if (this.options.budget) this.note(budgetFromBody(this.options.budget, body, this.options.clock.now()));
  }

  private note(reading: BudgetReading | undefined): void {
    if (!reading) return;
    const now = this.options.clock.now();
    // This response's own request is still counted in flight; the others may not have reached the API's count.
    this.bucket.adapt(budgetInRequests(reading, Math.max(0, this.inFlight - 1), now + this.options.maxDelayMs));
  }
}
