import { abortReason } from '../errors.js';

/** Caps how many operations run at once; waiters are served first come, first served. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: { grant: () => void }[] = [];

  /** @param limit operations allowed in flight at once (≥ 1). */
  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`concurrency limit must be at least 1, got ${limit}`);
  }

  /**
   * Waits for a slot and resolves with the function that frees it (call it once). Rejects with
   * the signal's reason, holding no slot, when the signal aborts while waiting.
   */
  async acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) throw abortReason(signal);
    if (this.active < this.limit) this.active++;
    else {
      await new Promise<void>((resolve, reject) => {
        const waiter = {
          grant: () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = () => {
          const at = this.waiting.indexOf(waiter);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(abortReason(signal!));
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
    // The slot passes straight to the next waiter.
    const next = this.waiting.shift();
    if (next) next.grant();
    else this.active--;
  }
}
