/** `apilake redrive`: dead letters (failed invocations, undelivered ticks) → re-invoke → delete on success. */

import { InputError } from '../../functions/index.js';
import { explainAwsError } from '../errors/explainAwsError.js';
import { formatTable } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';
import type { RedriveOutcome, RedriveResult } from '../redrive/redrive.js';
import { EXIT } from '../reportError.js';

/** Flags of `apilake redrive`. */
export interface RedriveOptions {
  readonly max: string;
  readonly dryRun: boolean;
  /** `failed`, `undelivered`, a queue URL, or absent for both queues of the stack. */
  readonly queue?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function redriveCommand(options: RedriveOptions): Promise<void> {
  const max = Number(options.max);
  if (!Number.isInteger(max) || max < 1) throw new InputError(`--max must be a positive whole number, got "${options.max}"`);
  const [{ resolveFunctionName, resolveQueues }, { redrive }, { SQSClient }, { LambdaClient }] = await Promise.all([
    import('../remote/stackOutputs.js'),
    import('../redrive/redrive.js'),
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-lambda'),
  ]);
  const queues = await resolveQueues(options);
  const sqs = new SQSClient({});
  const lambda = new LambdaClient({});
  // A Scheduler dead letter names its target; when it does not, the stack outputs know the function.
  const functionOf = async (source: string) => {
    try {
      return { name: await resolveFunctionName(source, options) };
    } catch (error) {
      return { error: (error as Error).message };
    }
  };
  const interrupt = interruptSignal('no further message is handled, a durable execution being waited for goes on; messages received so far are made visible again');
  let left = max;
  let kept = 0;
  try {
    for (const queue of queues) {
      if (left === 0 || interrupt.signal.aborted) break;
      console.log(`${options.dryRun ? 'listing' : 'redriving'} ${queue.label}: ${queue.url}`);
      let result: RedriveResult;
      try {
        result = await redrive({ sqs, lambda, queueUrl: queue.url, max: left, dryRun: options.dryRun, functionOf, signal: interrupt.signal });
      } catch (error) {
        throw explainAwsError(error, `reading ${queue.url}`) ?? error;
      }
      console.log(renderOutcomes(result.outcomes, options.dryRun));
      if (result.releaseError) console.error(`  could not make every message visible again (${result.releaseError}); they reappear within the visibility timeout`);
      left -= result.outcomes.length;
      kept += result.outcomes.filter((o) => o.kind === 'still_failing' || o.kind === 'unparseable' || o.kind === 'running').length;
    }
  } finally {
    interrupt.dispose();
  }
  if (interrupt.stoppedBy) process.exitCode = signalExitCode(interrupt.stoppedBy);
  else if (kept > 0) process.exitCode = EXIT.windowsFailed;
}

/** A table of what happened to each message and why it had failed, and a summary line. */
export function renderOutcomes(outcomes: readonly RedriveOutcome[], dryRun = false): string {
  if (outcomes.length === 0) return '  the queue is empty\n';
  const rows = outcomes.map((o) =>
    o.kind === 'unparseable' ? [o.messageId, '-', '-', 'kept (cannot parse)', o.reason] : [o.invocation.messageId, o.invocation.source, o.invocation.what, label(o), reason(o)],
  );
  const count = (kind: RedriveOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  const summary = dryRun
    ? `${count('listed')} listed, ${count('unparseable')} unparseable; nothing re-invoked or deleted, every message is visible again`
    : `${count('redriven')} redriven and deleted, ${count('still_failing')} still failing (kept), ${count('unparseable')} unparseable (kept)` +
      (count('running') > 0 ? `, ${count('running')} still running (kept; redrive again once it ends)` : '');
  return `${formatTable(['message', 'source', 'invocation', 'outcome', 'why it failed'], rows)}\n${summary}\n`;
}

function label(outcome: RedriveOutcome): string {
  switch (outcome.kind) {
    case 'redriven':
      return 'redriven, deleted';
    case 'still_failing':
      return 'still failing, kept';
    case 'listed':
      return 'listed (dry run)';
    case 'running':
      return 'still running, kept';
    default:
      return '';
  }
}

function reason(outcome: Exclude<RedriveOutcome, { kind: 'unparseable' }>): string {
  const original = `${outcome.invocation.error} (${outcome.invocation.condition})`;
  if (outcome.kind === 'running') return `stopped waiting for ${outcome.executionArn}, which goes on; first: ${original}`;
  return outcome.kind === 'still_failing' ? `again: ${outcome.error}; first: ${original}` : original;
}
