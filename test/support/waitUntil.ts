/**
 * Waits for something another process or server does, by asking until it holds: for a state no
 * event announces (a file growing, a count of requests a server saw). Fails by a deadline,
 * naming what never happened, rather than leaving the test to its own timeout.
 */

/** Options of {@link waitUntil}. */
export interface WaitUntilOptions {
  /** What is awaited, as the failure names it: `"the API has 12 requests"`. */
  readonly what: string;
  /** @default 20 000 ms */
  readonly withinMs?: number;
  /** Between two asks. @default 5 ms */
  readonly everyMs?: number;
}

/**
 * Resolves once `holds()` returns (or resolves to) true; asks at once, then every `everyMs`.
 * @throws Error when it still does not hold after `withinMs`, or when `holds` throws
 * @example await waitUntil(() => api.requests.length >= 12, { what: 'the API has 12 requests' });
 */
export async function waitUntil(holds: () => boolean | Promise<boolean>, options: WaitUntilOptions): Promise<void> {
  const deadline = performance.now() + (options.withinMs ?? 20_000);
  for (;;) {
    if (await holds()) return;
    if (performance.now() >= deadline) throw new Error(`waited ${options.withinMs ?? 20_000} ms, yet not: ${options.what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 5));
  }
}
