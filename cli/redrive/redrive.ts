/**
 * Redrive: read failed invocations from the on-failure queue, re-invoke each with its original
 * event, and delete a message only when the re-run succeeded. Messages that cannot be parsed
 * are left in place and reported.
 */

import type { LambdaClient } from '@aws-sdk/client-lambda';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { IngestSummary } from '../../functions/ingest/ingest.js';
import { invokeFunction } from '../remote/invokeFunction.js';

/** One failed invocation as Lambda's on-failure destination records it. */
export interface FailedInvocation {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly functionArn: string;
  readonly event: Record<string, unknown>;
  readonly source: string;
  /** `scheduled 2024-01-01T10:00:00Z` or `stream orders [start, end)`. */
  readonly what: string;
  readonly error: string;
  readonly attempts?: number;
}

/** What happened to one message. */
export type RedriveOutcome =
  | { readonly kind: 'redriven'; readonly invocation: FailedInvocation }
  | { readonly kind: 'still_failing'; readonly invocation: FailedInvocation; readonly error: string }
  | { readonly kind: 'listed'; readonly invocation: FailedInvocation }
  | { readonly kind: 'unparseable'; readonly messageId: string; readonly reason: string };

/** What a redrive needs. */
export interface RedriveInput {
  readonly sqs: SQSClient;
  readonly lambda: LambdaClient;
  readonly queueUrl: string;
  /** Messages handled at most. */
  readonly max: number;
  /** List only: nothing is invoked or deleted. */
  readonly dryRun: boolean;
  /**
   * How long a received message stays hidden while it is re-invoked; a message whose re-run
   * outlives it could be received twice, so it exceeds the longest function timeout.
   * @default 960 seconds
   */
  readonly visibilityTimeoutSeconds?: number;
  readonly onOutcome?: (outcome: RedriveOutcome) => void;
}

/** Parses a destination record. @returns a reason string when it is not one. */
export function parseFailedInvocation(message: Message): FailedInvocation | string {
  let record: {
    requestContext?: { functionArn?: string; approximateInvokeCount?: number };
    requestPayload?: Record<string, unknown>;
    responsePayload?: { errorMessage?: string; errorType?: string } | null;
    responseContext?: { functionError?: string };
  };
  try {
    record = JSON.parse(message.Body ?? '');
  } catch {
    return 'body is not JSON';
  }
  const functionArn = record?.requestContext?.functionArn;
  const event = record?.requestPayload;
  if (typeof functionArn !== 'string' || !event || typeof event !== 'object' || typeof event.source !== 'string') {
    return 'not a Lambda on-failure record of an apilake event (requestContext.functionArn and requestPayload.source expected)';
  }
  const window = event.window as { start?: string; end?: string } | undefined;
  const what =
    typeof event.scheduledTime === 'string'
      ? `scheduled ${event.scheduledTime}`
      : `${typeof event.stream === 'string' ? `stream ${event.stream} ` : ''}[${window?.start}, ${window?.end})`;
  const response = record.responsePayload;
  const error = response?.errorMessage ? `${response.errorType ?? 'Error'}: ${response.errorMessage}` : (record.responseContext?.functionError ?? 'unknown error');
  return {
    messageId: message.MessageId ?? '?',
    receiptHandle: message.ReceiptHandle ?? '',
    functionArn,
    event,
    source: event.source,
    what,
    error,
    attempts: record.requestContext?.approximateInvokeCount,
  };
}

/** Runs the redrive; outcomes come back in the order messages were received. */
export async function redrive(input: RedriveInput): Promise<RedriveOutcome[]> {
  const outcomes: RedriveOutcome[] = [];
  const seen = new Set<string>();
  const report = (outcome: RedriveOutcome) => {
    outcomes.push(outcome);
    input.onOutcome?.(outcome);
  };
  while (outcomes.length < input.max) {
    const received = await input.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: input.queueUrl,
        MaxNumberOfMessages: Math.min(10, input.max - outcomes.length),
        WaitTimeSeconds: 1,
        // A dry run only peeks: messages come back quickly; a real run hides them while re-invoking.
        VisibilityTimeout: input.dryRun ? 30 : (input.visibilityTimeoutSeconds ?? 960),
      }),
    );
    const fresh = (received.Messages ?? []).filter((m) => !seen.has(m.MessageId ?? ''));
    if (fresh.length === 0) break;
    for (const message of fresh) {
      seen.add(message.MessageId ?? '');
      if (outcomes.length >= input.max) break;
      const parsed = parseFailedInvocation(message);
      if (typeof parsed === 'string') {
        report({ kind: 'unparseable', messageId: message.MessageId ?? '?', reason: parsed });
        continue;
      }
      if (input.dryRun) {
        report({ kind: 'listed', invocation: parsed });
        continue;
      }
      const failure = await reinvoke(input.lambda, parsed);
      if (failure === undefined) {
        await input.sqs.send(new DeleteMessageCommand({ QueueUrl: input.queueUrl, ReceiptHandle: parsed.receiptHandle }));
        report({ kind: 'redriven', invocation: parsed });
      } else {
        report({ kind: 'still_failing', invocation: parsed, error: failure });
      }
    }
  }
  return outcomes;
}

/** Re-invokes synchronously. @returns undefined on success, else why it failed. */
async function reinvoke(lambda: LambdaClient, invocation: FailedInvocation): Promise<string | undefined> {
  try {
    const { payload, functionError } = await invokeFunction(lambda, invocation.functionArn, invocation.event);
    if (functionError) return functionError.message;
    const summary = JSON.parse(payload || '{}') as Partial<IngestSummary>;
    if (summary.trigger === 'rejected') return `rejected: ${summary.error}`;
    const failed = summary.streams?.filter((s) => s.status === 'failed') ?? [];
    return failed.length > 0 ? failed.map((s) => `${s.stream}: ${s.error}`).join('; ') : undefined;
  } catch (error) {
    return `invoke failed: ${(error as Error).message}`;
  }
}
