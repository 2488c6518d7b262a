/**
 * A durable window's claim: which durable execution may land the window. The claim is a
 * Powertools idempotency record (key prefix {@link CLAIM_KEY_PREFIX}, keyed on source + stream +
 * window, lasting {@link CLAIM_TTL_SECONDS}) whose stored response names the holder:
 * `{ execution: <durable execution ARN> }`.
 *
 * Invariants
 * - Claim: a record is created only by put-if-absent (`makeIdempotent`), so at any moment at most
 *   one execution holds a window. An execution that finds its own ARN in the record holds it (a
 *   replayed or retried claim step).
 * - Release: only the holder deletes its record, when its window failed, so a later delivery
 *   lands the window; the delete is conditioned on the record naming it, like a take-over's.
 * - Take-over: an execution that finds the window held by another, and not committed, asks Lambda
 *   for the holder's status. Only when the holder has ended (SUCCEEDED, FAILED, TIMED_OUT, STOPPED) does it delete
 *   the record, and only if the record still names that holder (a conditional DeleteItem); then it
 *   claims again by put-if-absent, like any delivery. Of two executions taking over one stale
 *   claim, one creates the new record and the other finds it: the loser's conditional delete
 *   cannot remove the winner's record, which names the winner, not the ended holder. A holder that
 *   is running, or whose status cannot be read, keeps the window.
 *
 * Why a take-over cannot land a window twice: the claim only spares the source a second walk of
 * the window; the commit is a put-if-absent manifest (commitProtocol.ts, I2 and I4). If the ended
 * holder's last invocation is still in flight and commits after the window was taken over, the
 * two runs race for the same next manifest and exactly one of them wins; the other reports the
 * window committed by it.
 */

import { IdempotencyAlreadyInProgressError, IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import type { BasePersistenceLayer } from '@aws-lambda-powertools/idempotency/persistence';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { ApilakeError } from '../errors.js';
import { CLAIM_TTL_SECONDS } from './durableLimits.js';

/** The idempotency records of durable windows: apart from those of the plain handler's invocations. */
export const CLAIM_KEY_PREFIX = 'apilake.window';

/** What a claim is keyed on: source + stream + window, never the execution. */
export type WindowKey = {
  readonly source: string;
  readonly stream: string;
  readonly window: { readonly start: string; readonly end: string };
};

/** The idempotency store of claims, with the one write Powertools has no call for: a delete conditioned on the holder. */
export type ClaimStore = BasePersistenceLayer & {
  /**
   * Deletes the window's claim only if it names `holder`.
   * @returns whether it deleted it (false: no record, or one of another execution, or one still in progress)
   */
  deleteIfHeldBy(key: WindowKey, holder: string): Promise<boolean>;
};

/**
 * The status of a durable execution, as GetDurableExecution reports it: RUNNING, SUCCEEDED,
 * FAILED, TIMED_OUT or STOPPED (https://docs.aws.amazon.com/lambda/latest/api/API_Execution.html).
 */
export type DurableExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'STOPPED';

/** Asks Lambda how a durable execution stands (GetDurableExecution in Lambda; a fake in tests). */
export interface DurableExecutionStatusLookup {
  /** @returns its status; a value Lambda may add later counts as not ended */
  durableExecutionStatus(executionArn: string): Promise<DurableExecutionStatus | (string & {})>;
}

/** The statuses after which an execution runs no more invocations. */
const ENDED: ReadonlySet<string> = new Set<DurableExecutionStatus>(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'STOPPED']);

/** What claiming needs. */
export interface ClaimDeps {
  readonly persistenceStore: ClaimStore;
  /** @default none: a window held by another execution stays held until the claim expires */
  readonly executionStatus?: DurableExecutionStatusLookup;
  readonly logger: Logger;
}

/** `claimed`: this execution holds the window (`tookOverFrom`: after the ended holder's claim was deleted); `held`: `holder` does. */
export type ClaimOutcome = { readonly kind: 'claimed'; readonly tookOverFrom?: string } | { readonly kind: 'held'; readonly holder: string };

/** The claim found the window's idempotency record in progress: a claim that crashed half-way, whose record expires with its invocation. */
export class ClaimInProgressError extends ApilakeError {
  constructor() {
    super("the window's idempotency record is in progress; trying again after it expires");
    this.name = 'ClaimInProgressError';
  }
}

/** The idempotency settings of claims, the same for claiming, releasing and taking over (the key's hash depends on them). */
export function claimConfig(context?: Context): IdempotencyConfig {
  const config = new IdempotencyConfig({ eventKeyJmesPath: '[source, stream, window.start, window.end]', expiresAfterSeconds: CLAIM_TTL_SECONDS });
  if (context) config.registerLambdaContext(context);
  return config;
}

/**
 * Claims the window for `execution` unless another execution holds it.
 * @throws ClaimInProgressError when another claim is half-way (its step tries again later)
 */
export async function claimWindow(key: WindowKey, execution: string, context: Context, store: BasePersistenceLayer): Promise<ClaimOutcome> {
  const holder = await putClaim(key, execution, context, store);
  return holder === execution ? { kind: 'claimed' } : { kind: 'held', holder };
}

/**
 * Takes the window over from `holder` if Lambda reports that execution ended; the caller has
 * found the window not committed (a committed window needs no landing, so no take-over).
 * @returns `held` when the holder runs, or its status cannot be read (a warning says why, once per reason)
 * @throws ClaimInProgressError when another taker's claim is half-way
 */
export async function takeOverIfEnded(key: WindowKey, holder: string, execution: string, context: Context, deps: ClaimDeps): Promise<ClaimOutcome> {
  const lookup = deps.executionStatus;
  if (!lookup) return { kind: 'held', holder };
  let status: string;
  try {
    status = await lookup.durableExecutionStatus(holder);
  } catch (error) {
    warnLookupFailed(lookup, error, holder, deps.logger);
    return { kind: 'held', holder };
  }
  if (!ENDED.has(status)) return { kind: 'held', holder };
  deps.logger.info("taking over the window's claim from an execution that has ended", { stream: key.stream, window: key.window.start, holder, status });
  return takeOverWindow(key, holder, execution, context, deps.persistenceStore);
}

/**
 * Takes the window over from `endedHolder`, which Lambda reported ended: deletes the claim only
 * if it still names that holder, then claims by put-if-absent. Safe to run by several executions
 * at once: one of them gets the claim.
 * @throws ClaimInProgressError when another taker's claim is half-way
 */
export async function takeOverWindow(key: WindowKey, endedHolder: string, execution: string, context: Context, store: ClaimStore): Promise<ClaimOutcome> {
  // The ended holder's claim is freed as its own release frees it: only while it still names that holder.
  await releaseWindow(key, endedHolder, store);
  const holder = await putClaim(key, execution, context, store);
  return holder === execution ? { kind: 'claimed', tookOverFrom: endedHolder } : { kind: 'held', holder };
}

/**
 * Frees `holder`'s claim after its window failed, so a redrive lands it. Only if the claim still
 * names `holder`: an execution that has ended may still have an invocation in flight, whose late
 * release must not free the claim of the execution that took the window over.
 */
export async function releaseWindow(key: WindowKey, holder: string, store: ClaimStore): Promise<void> {
  store.configure({ config: claimConfig(), keyPrefix: CLAIM_KEY_PREFIX });
  await store.deleteIfHeldBy(key, holder);
}

/** Creates the claim for `execution` unless there is one. @returns the execution the claim names */
async function putClaim(key: WindowKey, execution: string, context: Context, store: BasePersistenceLayer): Promise<string> {
  let holder: unknown;
  try {
    const claim = makeIdempotent(async (_key: WindowKey) => Promise.resolve({ execution }), { persistenceStore: store, config: claimConfig(context), keyPrefix: CLAIM_KEY_PREFIX });
    holder = ((await claim(key)) as { execution?: unknown } | null)?.execution;
  } catch (error) {
    if (error instanceof IdempotencyAlreadyInProgressError) throw new ClaimInProgressError();
    throw error;
  }
  // A record this code did not write (another format, another version of the store) names no holder: neither ours nor one to take over.
  if (typeof holder !== 'string' || holder === '') {
    throw new ApilakeError(`the window's claim (an idempotency record with key prefix ${CLAIM_KEY_PREFIX}) names no durable execution; it expires by its TTL, or delete it to free the window`);
  }
  return holder;
}

/** The reasons already warned about, per lookup: a missing permission would otherwise be logged for every window. */
const warned = new WeakMap<DurableExecutionStatusLookup, Set<string>>();

function warnLookupFailed(lookup: DurableExecutionStatusLookup, error: unknown, holder: string, logger: Logger): void {
  const reason = error instanceof Error ? error.name : 'Error';
  const seen = warned.get(lookup) ?? new Set<string>();
  warned.set(lookup, seen);
  if (seen.has(reason)) return;
  seen.add(reason);
  // The SDK's error names the failure (AccessDeniedException, TooManyRequestsException, ResourceNotFoundException) and carries no credentials.
  logger.warn(
    'could not read the status of the execution holding a window, so its claim is not taken over; the window fails until that execution frees it or the claim expires (further failures for the same reason are not logged)',
    {
      holder,
      reason,
      message: error instanceof Error ? error.message.slice(0, 500) : String(error).slice(0, 500),
    },
  );
}
