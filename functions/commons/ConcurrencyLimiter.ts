/** Caps how many operations run at once; waiters are served first come, first served. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: { grant: () => void; refuse: (reason: unknown) => void }[] = [];

  /** @param limit operations allowed in flight at once (≥ 1); {@link setLimit} changes it later. */
  constructor(private limitValue: number) {
    checkLimit(limitValue);
  }

  /** Operations allowed in flight at once. */
  get limit(): number {
    return this.limitValue;
  }

  /** Operations in flight now. */
  get inFlight(): number {
    return this.active;
  }

  /** Changes the limit: a higher one lets waiters in at once, a lower one takes effect as operations end. */
  setLimit(limit: number): void {
    checkLimit(limit);
    this.limitValue = limit;
    while (this.active < this.limitValue && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!.grant();
    }
  }

  /**
   * Waits for a slot and resolves with the function that frees it (call it once). Rejects with
   * the signal's reason, holding no slot, when the signal aborts while waiting.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active < this.limitValue) this.active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
          refuse: reject,
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(signal!.reason);
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(waiter);
      });
    }
    let freed = false;
    return () => {
      if (freed) return;
      freed = true;
      this.free();
    };
  }

  /** Runs `task` when a slot is free and frees the slot when it settles. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    const release = await this.acquire();
    try {
      return await task();
    } finally {
      release();
    }
  }

  private free(): void {
    // The slot passes straight to the next waiter unless the limit was lowered meanwhile.
    if (this.active <= this.limitValue && this.waiting.length > 0) this.waiting.shift()!.grant();
    else this.active--;
  }
}

function checkLimit(limit: number): void {
  if (!(limit >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${limit}`);
}
