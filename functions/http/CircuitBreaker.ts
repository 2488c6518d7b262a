/**
 * Fails fast once an API looks down: after `threshold` consecutive failed requests, requests
 * fail at once for `cooldownMs`; then one may try again, and a success closes the circuit.
 */

import { systemClock, type Clock } from '../clock.js';
import { CircuitOpenError } from '../errors.js';

/** Options of a {@link CircuitBreaker}. */
export interface CircuitBreakerOptions {
  readonly threshold: number;
  readonly cooldownMs: number;
  /** @default systemClock */
  readonly clock?: Clock;
}

/** Counts consecutive failures of one source's requests. */
export class CircuitBreaker {
  private failures = 0;
  private openedAt = 0;
  private lastError: unknown;
  private readonly clock: Clock;

  constructor(private readonly options: CircuitBreakerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /**
   * @param request the request, for the error; a function is called only when the circuit is open.
   * @throws CircuitOpenError while the circuit is open.
   */
  check(request: string | (() => string)): void {
    if (this.failures >= this.options.threshold && this.clock.now() - this.openedAt < this.options.cooldownMs) {
      throw new CircuitOpenError(this.failures, typeof request === 'string' ? request : request(), { cause: this.lastError });
    }
  }

  recordSuccess(): void {
    this.failures = 0;
  }

  recordFailure(error: unknown): void {
    this.failures++;
    this.lastError = error;
    if (this.failures >= this.options.threshold) this.openedAt = this.clock.now();
  }

  /** Whether requests currently fail fast. */
  get isOpen(): boolean {
    return this.failures >= this.options.threshold && this.clock.now() - this.openedAt < this.options.cooldownMs;
  }
}
