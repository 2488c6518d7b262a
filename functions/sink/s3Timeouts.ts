/**
 * How long an S3 call may wait for progress before an attempt fails, as data and pure functions.
 * Each attempt is bounded by time without progress, never by total time: a large part on a slow
 * link keeps its attempt alive for as long as bytes move, a stalled call fails after `idleMs`.
 * Failed attempts are retried by the SDK's standard retry strategy (3 attempts, exponential
 * backoff with jitter; `AWS_MAX_ATTEMPTS` changes the count).
 */

import { InputError } from '../errors.js';

/** Timeouts of one S3 attempt. */
export interface S3Timeouts {
  /** An attempt that neither sends nor receives a byte for this long fails (and is retried). */
  readonly idleMs: number;
  /** Longest wait for the TCP (and TLS) connection of an attempt. */
  readonly connectMs: number;
}

/** The defaults: generous enough for a slow link, short enough that a stall is reported within minutes. */
export const S3_TIMEOUTS: S3Timeouts = { idleMs: 30_000, connectMs: 10_000 };

/** The environment variable that sets {@link S3Timeouts.idleMs}. */
export const S3_IDLE_TIMEOUT_ENV = 'APILAKE_S3_IDLE_TIMEOUT_MS';

/** Bounds of `APILAKE_S3_IDLE_TIMEOUT_MS`: below a second even a healthy call can trip it. */
const IDLE_RANGE = { min: 1_000, max: 3_600_000 } as const;

/**
 * The timeouts the environment asks for, filled with the defaults. The connection timeout never
 * exceeds the idle timeout.
 * @throws InputError when `APILAKE_S3_IDLE_TIMEOUT_MS` is not a whole number of milliseconds in range.
 */
export function s3TimeoutsFromEnv(env: Readonly<Record<string, string | undefined>>): S3Timeouts {
  const text = env[S3_IDLE_TIMEOUT_ENV];
  if (text === undefined || text.trim() === '') return S3_TIMEOUTS;
  const idleMs = Number(text);
  if (!Number.isInteger(idleMs) || idleMs < IDLE_RANGE.min || idleMs > IDLE_RANGE.max) {
    throw new InputError(`${S3_IDLE_TIMEOUT_ENV} must be a whole number of milliseconds from ${IDLE_RANGE.min} to ${IDLE_RANGE.max}, got "${text}"`);
  }
  return { idleMs, connectMs: Math.min(S3_TIMEOUTS.connectMs, idleMs) };
}
