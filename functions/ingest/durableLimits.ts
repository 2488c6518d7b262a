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
 * without releasing its claim (timed out, stopped) holds the window for at most an hour past its
 * own end, not for a day; while it runs, no other execution can take the window over.
 */
export const CLAIM_TTL_SECONDS = DURABLE_EXECUTION_TIMEOUT_SECONDS + 3600;
