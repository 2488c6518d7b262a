/** `apilake redrive`: failed invocations from the DLQ → re-invoke → delete on success. */

import { LambdaClient } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { InputError } from '../../functions/errors.js';
import { formatTable } from '../format.js';
import { redrive, type RedriveOutcome } from '../redrive/redrive.js';
import { resolveQueueUrl } from '../remote/stackOutputs.js';
import { EXIT } from '../reportError.js';

/** Flags of `apilake redrive`. */
export interface RedriveOptions {
  readonly max: string;
  readonly dryRun: boolean;
  readonly queue?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function redriveCommand(options: RedriveOptions): Promise<void> {
  const max = Number(options.max);
  if (!Number.isInteger(max) || max < 1) throw new InputError(`--max must be a positive whole number, got "${options.max}"`);
  const queueUrl = await resolveQueueUrl(options);
  console.log(`${options.dryRun ? 'listing' : 'redriving'} up to ${max} failed invocations from ${queueUrl}`);
  const outcomes = await redrive({ sqs: new SQSClient({}), lambda: new LambdaClient({}), queueUrl, max, dryRun: options.dryRun });
  console.log(renderOutcomes(outcomes));
  if (outcomes.some((o) => o.kind === 'still_failing' || o.kind === 'unparseable')) process.exitCode = EXIT.windowsFailed;
}

/** A table of what happened to each message, and a summary line. */
export function renderOutcomes(outcomes: readonly RedriveOutcome[]): string {
  if (outcomes.length === 0) return 'the queue is empty';
  const rows = outcomes.map((o) =>
    o.kind === 'unparseable'
      ? [o.messageId, '-', '-', 'left in queue', o.reason]
      : [o.invocation.messageId, o.invocation.source, o.invocation.what, label(o), o.kind === 'still_failing' ? o.error : o.invocation.error],
  );
  const count = (kind: RedriveOutcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  return `${formatTable(['message', 'source', 'invocation', 'outcome', 'error'], rows)}\n${count('redriven')} redriven and deleted, ${count('still_failing')} still failing (kept), ${count('unparseable')} unparseable (kept), ${count('listed')} listed`;
}

function label(outcome: RedriveOutcome): string {
  switch (outcome.kind) {
    case 'redriven':
      return 'redriven, deleted';
    case 'still_failing':
      return 'still failing, kept';
    case 'listed':
      return 'listed (dry run)';
    default:
      return '';
  }
}
