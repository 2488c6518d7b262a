/**
 * Re-runs one dead letter as an asynchronous durable execution and waits for its end. Lambda
 * limits a synchronous invocation of a durable function to 15 minutes; an asynchronous one runs
 * as long as the execution timeout allows
 * (https://docs.aws.amazon.com/lambda/latest/dg/durable-invoking.html). So the execution is
 * started with InvocationType `Event` and read with GetDurableExecution until it ends, while the
 * message's visibility is extended so that no other reader receives it meanwhile.
 */

import {
  GetDurableExecutionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListDurableExecutionsByFunctionCommand,
  type GetDurableExecutionCommandOutput,
  type LambdaClient,
} from '@aws-sdk/client-lambda';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Clock } from '../../functions/index.js';
import { executionName, MAX_ATTEMPTS } from './executionName.js';
import { pollDelayMs } from './pollDelay.js';
import { summaryFailure } from './summaryFailure.js';

/** What {@link redriveDurable} needs for one message. */
export interface DurableRedriveInput {
  readonly lambda: LambdaClient;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly functionName: string;
  /** The version `functionName` resolves to now ({@link durableVersion}). */
  readonly version: string;
  readonly event: unknown;
  /** The message's visibility timeout: it is extended by this much once half of it has passed. */
  readonly visibilityTimeoutSeconds: number;
  /** When the message's visibility timeout last started (its receipt), on `clock`. */
  readonly hiddenSince: number;
  readonly clock: Clock;
  /** Stops the waiting (not the execution). */
  readonly signal?: AbortSignal;
}

/** How a durable re-run ended, or that the wait for it was stopped while it runs. */
export type DurableRedriveResult = { readonly kind: 'ended'; readonly executionArn: string; readonly failure?: string } | { readonly kind: 'running'; readonly executionArn: string };

const TERMINAL: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'STOPPED']);

/**
 * The version `functionName` (a name or ARN, with or without a version or alias) resolves to when
 * it is a durable function (its configuration has a DurableConfig), else undefined.
 */
export async function durableVersion(lambda: LambdaClient, functionName: string): Promise<string | undefined> {
  const configuration = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName }));
  return configuration.DurableConfig === undefined ? undefined : (configuration.Version ?? '$LATEST');
}

/**
 * Finds the execution of this message that is running or succeeded, or starts the next one, then
 * reads it until it ends. Network and permission errors throw.
 */
export async function redriveDurable(input: DurableRedriveInput): Promise<DurableRedriveResult> {
  const executionArn = await findOrStart(input);
  let hiddenSince = input.hiddenSince;
  const extendEveryMs = (input.visibilityTimeoutSeconds * 1000) / 2;
  for (let poll = 0; ; poll++) {
    const execution = await input.lambda.send(new GetDurableExecutionCommand({ DurableExecutionArn: executionArn }));
    if (TERMINAL.has(execution.Status ?? '')) return { kind: 'ended', executionArn, failure: executionFailure(execution) };
    if (input.clock.now() - hiddenSince >= extendEveryMs) {
      try {
        await input.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: input.queueUrl, ReceiptHandle: input.receiptHandle, VisibilityTimeout: input.visibilityTimeoutSeconds }));
      } catch {
        // The message may now reappear (SQS refuses, among others, visibility past 12 hours from
        // its receipt); the execution goes on either way, and a later redrive finds it by name.
        return { kind: 'running', executionArn };
      }
      hiddenSince = input.clock.now();
    }
    // Never sleep past the next extension: a long backoff must not let the message reappear.
    const untilExtension = Math.max(0, hiddenSince + extendEveryMs - input.clock.now());
    try {
      await input.clock.sleep(Math.min(pollDelayMs(poll), untilExtension), input.signal);
    } catch (error) {
      if (input.signal?.aborted) return { kind: 'running', executionArn };
      throw error;
    }
  }
}

/**
 * The execution to wait for: attempt 0, 1, … of this message's names, skipping those that ended
 * without success (an earlier redrive that failed), and taking the first that runs or succeeded
 * (a redrive killed while it ran) or that does not exist yet, which it starts.
 */
async function findOrStart(input: DurableRedriveInput): Promise<string> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const name = executionName(input.messageId, input.version, attempt);
    const found = await input.lambda.send(new ListDurableExecutionsByFunctionCommand({ ...functionAndQualifier(input.functionName), DurableExecutionName: name, MaxItems: 10 }));
    // The filter may match names that contain this one: only the exact name counts.
    const existing = found.DurableExecutions?.find((execution) => execution.DurableExecutionName === name);
    if (existing?.DurableExecutionArn && (existing.Status === 'RUNNING' || existing.Status === 'SUCCEEDED')) return existing.DurableExecutionArn;
    if (existing) continue;
    // Same name, same payload: Lambda returns the existing execution, so a lost response is safe to repeat.
    const started = await input.lambda.send(
      new InvokeCommand({ FunctionName: input.functionName, InvocationType: 'Event', DurableExecutionName: name, Payload: Buffer.from(JSON.stringify(input.event)) }),
    );
    if (!started.DurableExecutionArn) throw new Error(`Lambda started no durable execution of ${input.functionName} (no DurableExecutionArn in the Invoke response)`);
    return started.DurableExecutionArn;
  }
  throw new Error(`${MAX_ATTEMPTS} earlier executions of this message ended without success; they expire after the function's retention period`);
}

/**
 * The function and the version or alias it names. An execution belongs to the version its
 * invocation resolved to, and ListDurableExecutionsByFunction lists the executions of its
 * Qualifier only, $LATEST's without one
 * (https://docs.aws.amazon.com/lambda/latest/api/API_ListDurableExecutionsByFunction.html):
 * an execution started through the `live` alias is found only by asking for `live`.
 */
function functionAndQualifier(functionName: string): { FunctionName: string; Qualifier?: string } {
  // A full or partial ARN (`…function:<name>[:<qualifier>]`), or `<name>[:<qualifier>]`.
  const match = /^((?:.*:)?function:)?([^:]+)(?::([^:]+))?$/.exec(functionName);
  if (!match) return { FunctionName: functionName };
  const [, prefix = '', name, qualifier] = match;
  return { FunctionName: `${prefix}${name!}`, ...(qualifier ? { Qualifier: qualifier } : {}) };
}

/** @returns undefined for a SUCCEEDED execution whose summary reports success, else why it failed. */
function executionFailure(execution: GetDurableExecutionCommandOutput): string | undefined {
  if (execution.Status === 'SUCCEEDED') return summaryFailure(execution.Result);
  const error = execution.Error;
  const detail = [error?.ErrorType, error?.ErrorMessage].filter(Boolean).join(': ');
  return `${execution.Status}${detail ? `: ${detail}` : ''}`;
}
