/**
 * How long a durable execution of the function may run, and how long its claim on a window lasts.
 * The infrastructure sets the execution timeout from here, so the two cannot drift apart.
 */

import { MAX_ATTEMPT_MS } from '../sink/commitProtocol.js';

/**
 * Longest a durable execution may run: as long as a window attempt may take before committing
 * ({@link MAX_ATTEMPT_MS}), after which the window can no longer commit anyway.
 */
export const DURABLE_EXECUTION_TIMEOUT_SECONDS = MAX_ATTEMPT_MS / 1000;

/**
 * How long a window's claim lasts: its execution's timeout and an hour. An execution that ends
 * without releasing its claim (timed out, stopped) loses the window to the next delivery that
 * finds it ended (windowClaim.ts); only when its status cannot be read does it hold the window
 * until then, at most an hour past its own end. While it runs, no other execution takes it over.
 */
export const CLAIM_TTL_SECONDS = DURABLE_EXECUTION_TIMEOUT_SECONDS + 3600;
