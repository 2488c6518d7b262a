/**
 * One backfill in AWS at a time per range, however many commands start it at once.
 *
 * Listing the running executions cannot decide it: two commands started together both find none
 * (and Step Functions' ListExecutions is eventually consistent). So the starts of a range are
 * numbered claims in the lake bucket, `backfills/source=<s>/starts/<range key>/<n>.json`, each
 * written with a put-if-absent and naming the execution its writer starts:
 *
 * - a command walks the claims from 0: the first free number it writes is its own, and only then
 *   does it start its execution;
 * - a claim taken by another names an execution that is running (the command attaches to it), has
 *   ended (the command goes on to the next number), or is not there yet: its writer is between
 *   the claim and StartExecution, or died there. The command waits for it to appear, and passes
 *   the claim over once {@link START_GRACE_MS} have gone by since the claim was written (its
 *   `claimedAt`), or since the command first found it, whichever is earlier. Not since the name's
 *   own time: a command names its execution before it walks the claims, and may wait up to a
 *   minute on a dead one before it writes its own.
 *
 * Invariant: of the commands that start a range while none of its executions runs, one starts an
 * execution; the others attach to it. A claim is never rewritten, so no two commands own a number.
 */

import { DescribeExecutionCommand, ExecutionDoesNotExist, type SFNClient } from '@aws-sdk/client-sfn';
import type { LakeStorage } from '../../functions/index.js';
import { backfillSourcePrefix } from '../../infra/backfillLayout.js';
import { backfillNameTime, executionArn } from './backfillId.js';

/** How long a claim whose execution is not there may still be starting it: its writer is then taken for dead. */
export const START_GRACE_MS = 60_000;
/**
 * An execution name as apilake writes them, within what StartExecution takes (1–80 characters, no
 * white space, brackets, wildcards or other special characters:
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html).
 */
const EXECUTION_NAME = /^[A-Za-z0-9_-]{1,80}$/;
/** Between two looks for an execution a claim names. */
const LOOK_EVERY_MS = 1_000;

/** What a command that claims the start of a range may do. */
export type StartClaim = { readonly kind: 'own' } | { readonly kind: 'running'; readonly executionArn: string };

/** What {@link claimStart} needs. */
export interface StartClaimInput {
  readonly storage: LakeStorage;
  readonly source: string;
  /** The range key ({@link backfillRangeKey}). */
  readonly rangeKey: string;
  /** The execution this command would start. */
  readonly name: string;
  readonly sfn: SFNClient;
  readonly stateMachineArn: string;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** `backfills/source=<s>/starts/<range key>/<n>.json`. */
export function startClaimKey(source: string, rangeKey: string, n: number): string {
  return `${backfillSourcePrefix(source)}starts/${rangeKey}/${n}.json`;
}

/** Claims the next start of the range: `own` to start {@link StartClaimInput.name}, or the execution that runs it already. */
export async function claimStart(input: StartClaimInput): Promise<StartClaim> {
  const now = input.now ?? Date.now;
  const sleep = input.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  for (let n = 0; ; n++) {
    const key = startClaimKey(input.source, input.rangeKey, n);
    if ((await input.storage.putIfAbsent(key, `${JSON.stringify({ name: input.name, claimedAt: new Date(now()).toISOString() })}\n`)) === 'created') return { kind: 'own' };
    const claim = readClaim(await input.storage.read(key));
    // Unreadable, it names no execution: as one that ended, it holds nothing up.
    if (claim === undefined) continue;
    const other = claim.name;
    // The same name: a command started in the same millisecond; StartExecution settles it.
    if (other === input.name) return { kind: 'own' };
    const arn = executionArn(input.stateMachineArn, other);
    // A claim written by a clock that runs ahead would hold the range up for as long: the wait
    // counts from this command's first look at it when that comes earlier.
    const firstLook = now();
    for (;;) {
      const status = await executionStatus(input.sfn, arn);
      if (status === 'RUNNING') return { kind: 'running', executionArn: arn };
      if (status !== undefined) break;
      const since = claim.claimedAt === undefined ? undefined : Math.min(claim.claimedAt, firstLook);
      if (since === undefined || now() - since >= START_GRACE_MS) break;
      await sleep(LOOK_EVERY_MS);
    }
  }
}

/** The execution's status, or undefined when it does not exist. */
async function executionStatus(sfn: SFNClient, arn: string): Promise<string | undefined> {
  try {
    return (await sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).status ?? 'UNKNOWN';
  } catch (error) {
    if (error instanceof ExecutionDoesNotExist) return undefined;
    throw error;
  }
}

/** A claim's execution name, and when it was written (ms; the name's own time for a claim that does not say). */
function readClaim(bytes: Buffer | undefined): { readonly name: string; readonly claimedAt: number | undefined } | undefined {
  try {
    const { name, claimedAt } = JSON.parse(bytes?.toString('utf8') ?? '') as { name?: unknown; claimedAt?: unknown };
    // Not an execution name, it names no execution (and DescribeExecution would refuse it).
    if (typeof name !== 'string' || !EXECUTION_NAME.test(name)) return undefined;
    const at = typeof claimedAt === 'string' ? Date.parse(claimedAt) : Number.NaN;
    return { name, claimedAt: Number.isNaN(at) ? backfillNameTime(name) : at };
  } catch {
    return undefined;
  }
}
