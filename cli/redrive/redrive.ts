/**
 * Redrive: read dead letters from a queue (Lambda on-failure records or Scheduler dead-letter
 * events), re-invoke the function with the original event, and delete a message only when the
 * re-run succeeded. A durable function is re-run as an asynchronous durable execution that may
 * outlast the 15 minutes of a synchronous invocation (redriveDurable.ts); any other synchronously.
 *
 * Visibility: a received message is hidden from other readers for the visibility timeout. Every
 * message this run received and did not delete (dry run, still failing, unparseable, beyond
 * --max, or not reached after a stop signal) is made visible again before the run ends, so a dry run
 * followed by a real run finds every message, and the queue's alarm keeps seeing them. Only a
 * run killed outright leaves them hidden, for at most the visibility timeout. A real run receives
 * one message at a time, so a message's visibility timeout starts when its re-run does, and is
 * extended while a durable execution runs longer.
 */

import type { LambdaClient } from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityBatchCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { systemClock, type Clock } from '../../functions/index.js';
import { invokeFunction } from '../remote/invokeFunction.js';
import { parseDeadLetter, type FailedInvocation } from './parseDeadLetter.js';
import { durableVersion, redriveDurable } from './redriveDurable.js';
import { summaryFailure } from './summaryFailure.js';

export { parseDeadLetter, type FailedInvocation } from './parseDeadLetter.js';

/** What happened to one message. */
export type RedriveOutcome =
  | { readonly kind: 'redriven'; readonly invocation: FailedInvocation }
  | { readonly kind: 'still_failing'; readonly invocation: FailedInvocation; readonly error: string }
  /** Stopped while its durable execution ran: the message is kept, the execution goes on. */
  | { readonly kind: 'running'; readonly invocation: FailedInvocation; readonly executionArn: string }
  | { readonly kind: 'listed'; readonly invocation: FailedInvocation }
  | { readonly kind: 'unparseable'; readonly messageId: string; readonly reason: string };

/** What a redrive needs. */
export interface RedriveInput {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly queueUrl: string;
  /** Messages handled at most. */
  readonly max: number;
  /** List only: nothing is invoked or deleted, and every message is visible again at the end. */
  readonly dryRun: boolean;
  /**
   * The function of a source, for a Scheduler dead letter whose TARGET_ARN is not a function.
   * @returns the function name or ARN, or why it cannot be found.
   * @default none: such a message is kept
   */
  readonly functionOf?: (source: string) => Promise<{ name: string } | { error: string }>;
  /**
   * How long a received message stays hidden while it is re-invoked; it exceeds the longest
   * synchronous invocation (900 s), and is extended by as much each time half of it has passed
   * while a durable execution runs. A dry run hides messages for 30 s only, in case it is killed
   * before it can release them.
   * @default 960 seconds
   */
  readonly visibilityTimeoutSeconds?: number;
  /**
   * Stops before the next message (Ctrl-C, SIGTERM, SIGHUP), and stops waiting for a durable
   * execution (which goes on); received messages are still released.
   */
  readonly signal?: AbortSignal;
  /** Time and waiting, for the reads of a durable execution's status. @default the system clock */
  readonly clock?: Clock;
  readonly onOutcome?: (outcome: RedriveOutcome) => void;
}

/** What a run did, and whether every message it hid is visible again. */
export interface RedriveResult {
  readonly outcomes: RedriveOutcome[];
  /** Messages made visible again at the end (received but not deleted). */
  readonly released: number;
  /** Set when releasing failed: those messages reappear after the visibility timeout instead. */
  readonly releaseError?: string;
}

const DRY_RUN_VISIBILITY_SECONDS = 30;

/** Runs the redrive of one queue; outcomes come back in the order messages were received. */
export async function redrive(input: RedriveInput): Promise<RedriveResult> {
  const outcomes: RedriveOutcome[] = [];
  const clock = input.clock ?? systemClock;
  const visibilityTimeoutSeconds = input.visibilityTimeoutSeconds ?? 960;
  const seen = new Set<string>();
  // Receipt handles of received messages not deleted: released in `finally`, whatever happens.
  const toRelease = new Map<string, string>();
  const report = (outcome: RedriveOutcome) => {
    outcomes.push(outcome);
    input.onOutcome?.(outcome);
  };
  let releaseOutcome: { released: number; releaseError?: string } = { released: 0 };
  try {
    while (outcomes.length < input.max && !input.signal?.aborted) {
      const received = await input.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: input.queueUrl,
          // One at a time for a real run: a message waiting behind a long re-run would reappear.
          MaxNumberOfMessages: input.dryRun ? Math.min(10, input.max - outcomes.length) : 1,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: input.dryRun ? DRY_RUN_VISIBILITY_SECONDS : visibilityTimeoutSeconds,
        }),
      );
      const receivedAt = clock.now();
      const messages = received.Messages ?? [];
      for (const message of messages) if (message.ReceiptHandle) toRelease.set(message.ReceiptHandle, message.MessageId ?? '');
      const fresh = messages.filter((m) => !seen.has(m.MessageId ?? ''));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        if (outcomes.length >= input.max || input.signal?.aborted) break;
        seen.add(message.MessageId ?? '');
        const parsed = parseDeadLetter(message);
        if (typeof parsed === 'string') {
          report({ kind: 'unparseable', messageId: message.MessageId ?? '?', reason: parsed });
          continue;
        }
        if (input.dryRun) {
          report({ kind: 'listed', invocation: parsed });
          continue;
        }
        const failure = await reinvoke({ ...input, clock, visibilityTimeoutSeconds }, parsed, receivedAt);
        if (typeof failure === 'object') {
          report({ kind: 'running', invocation: parsed, executionArn: failure.running });
        } else if (failure === undefined) {
          await input.sqs.send(new DeleteMessageCommand({ QueueUrl: input.queueUrl, ReceiptHandle: parsed.receiptHandle }));
          toRelease.delete(parsed.receiptHandle);
          report({ kind: 'redriven', invocation: parsed });
        } else {
          report({ kind: 'still_failing', invocation: parsed, error: failure });
        }
      }
    }
  } finally {
    releaseOutcome = await release(input.sqs, input.queueUrl, [...toRelease.keys()]);
  }
  return { outcomes, ...releaseOutcome };
}

/** Makes messages visible again (visibility timeout 0), ten per call. Never throws: it runs in `finally`. */
async function release(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]): Promise<{ released: number; releaseError?: string }> {
  let released = 0;
  const errors: string[] = [];
  for (let i = 0; i < receiptHandles.length; i += 10) {
    const batch = receiptHandles.slice(i, i + 10);
    try {
      const response = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: batch.map((handle, n) => ({ Id: String(i + n), ReceiptHandle: handle, VisibilityTimeout: 0 })),
        }),
      );
      released += response.Successful?.length ?? 0;
      for (const failed of response.Failed ?? []) errors.push(`${failed.Code}: ${failed.Message ?? ''}`.trim());
    } catch (error) {
      errors.push((error as Error).message);
    }
  }
  return errors.length === 0 ? { released } : { released, releaseError: errors.join('; ') };
}

/**
 * Re-invokes: a durable function asynchronously, waiting for its execution's end; any other synchronously.
 * @returns undefined on success, the execution left running when stopped, else why it failed.
 */
async function reinvoke(input: RedriveInput & { clock: Clock; visibilityTimeoutSeconds: number }, invocation: FailedInvocation, receivedAt: number): Promise<string | { running: string } | undefined> {
  let functionName = invocation.functionArn;
  if (functionName === undefined) {
    const found = input.functionOf ? await input.functionOf(invocation.source) : { error: 'the message names no function' };
    if ('error' in found) return `no function to invoke for source ${invocation.source}: ${found.error}`;
    functionName = found.name;
  }
  try {
    const version = await durableVersion(input.lambda, functionName);
    if (version !== undefined) {
      const result = await redriveDurable({
        version,
        lambda: input.lambda,
        sqs: input.sqs,
        queueUrl: input.queueUrl,
        messageId: invocation.messageId,
        receiptHandle: invocation.receiptHandle,
        functionName,
        event: invocation.event,
        visibilityTimeoutSeconds: input.visibilityTimeoutSeconds,
        hiddenSince: receivedAt,
        clock: input.clock,
        signal: input.signal,
      });
      return result.kind === 'running' ? { running: result.executionArn } : result.failure;
    }
    const { payload, functionError } = await invokeFunction(input.lambda, functionName, invocation.event);
    if (functionError) return `${functionError.type}: ${functionError.message}`;
    return summaryFailure(payload);
  } catch (error) {
    return `invoke failed: ${(error as Error).message}`;
  }
}
