/**
 * Reads the two kinds of dead letters an apilake stack collects, as AWS documents them:
 *
 * - Lambda's on-failure destination record (queue FailedInvocations): the original event in
 *   `requestPayload`, why it was given up in `requestContext.condition` (`RetriesExhausted`,
 *   `EventAgeExceeded`), and the last error in `responsePayload` when the function ran.
 *   "Capturing records of Lambda asynchronous invocations", example invocation record:
 *   https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
 * - EventBridge Scheduler's dead-letter event (queue UndeliveredTicks): the body is the target's
 *   input (`{source, scheduledTime}`), the error is in message attributes `ERROR_CODE`,
 *   `ERROR_MESSAGE`, `EXHAUSTED_RETRY_CONDITION` (only for retryable errors), `RETRY_ATTEMPTS`,
 *   `SCHEDULED_TIME`, `SCHEDULE_ARN`, `TARGET_ARN`, `IS_PAYLOAD_TRUNCATED`.
 *   "Configuring a schedule's dead-letter queue", section "Retrieve the dead-letter event":
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html
 */

import type { Message } from '@aws-sdk/client-sqs';

/** One dead letter, either kind, with what is needed to run it again and to say why it failed. */
export interface FailedInvocation {
  readonly messageId: string;
  readonly receiptHandle: string;
  /** `lambda`: failed inside the function; `scheduler`: the tick never reached the function. */
  readonly origin: 'lambda' | 'scheduler';
  /** The function to re-invoke, when the message names it (record's functionArn, Scheduler's TARGET_ARN). */
  readonly functionArn?: string;
  /** The original event, as the function would have received it. */
  readonly event: Record<string, unknown>;
  readonly source: string;
  /** `scheduled 2024-01-01T10:00:00Z` or `stream orders [start, end)`. */
  readonly what: string;
  /** The last error: the function's error, or the one Scheduler got from Lambda. */
  readonly error: string;
  /** Why AWS gave up, e.g. `RetriesExhausted after 3 attempts` or `MaximumEventAgeInSeconds after 4 retries`. */
  readonly condition: string;
  readonly attempts?: number;
}

/** The Scheduler input placeholder, left as is if a dead letter was written before substitution. */
const SCHEDULED_TIME_PLACEHOLDER = '<aws.scheduler.scheduled-time>';

/** Parses a dead letter of either kind. @returns why it cannot be redriven, when it is neither. */
export function parseDeadLetter(message: Message): FailedInvocation | string {
  const attributes = message.MessageAttributes ?? {};
  if (attributes.ERROR_CODE || attributes.SCHEDULE_ARN) return parseSchedulerDeadLetter(message);
  let body: unknown;
  try {
    body = JSON.parse(message.Body ?? '');
  } catch {
    return 'body is not JSON, and there are no Scheduler error attributes';
  }
  if (isObject(body) && isObject(body.requestContext)) return parseLambdaRecord(message, body);
  return 'neither a Lambda on-failure record (requestContext, requestPayload) nor an EventBridge Scheduler dead letter (ERROR_CODE attribute)';
}

function parseLambdaRecord(message: Message, record: Record<string, unknown>): FailedInvocation | string {
  const context = record.requestContext as { functionArn?: unknown; condition?: unknown; approximateInvokeCount?: unknown };
  const event = record.requestPayload;
  if (typeof context.functionArn !== 'string' || !isObject(event) || typeof event.source !== 'string') {
    return 'a Lambda on-failure record without an apilake event (requestContext.functionArn and requestPayload.source expected)';
  }
  const attempts = typeof context.approximateInvokeCount === 'number' ? context.approximateInvokeCount : undefined;
  const condition = typeof context.condition === 'string' ? context.condition : 'unknown condition';
  const response = isObject(record.responsePayload) ? record.responsePayload : undefined;
  const responseContext = isObject(record.responseContext) ? record.responseContext : undefined;
  let error: string;
  if (typeof response?.errorMessage === 'string') error = `${typeof response.errorType === 'string' ? response.errorType : 'Error'}: ${response.errorMessage}`;
  else if (typeof responseContext?.functionError === 'string') error = `function error (${responseContext.functionError}) without a message`;
  else if (condition === 'EventAgeExceeded') error = "the event expired in Lambda's queue before the function could succeed (throttled or out of concurrency?)";
  else error = 'no error recorded';
  return {
    messageId: message.MessageId ?? '?',
    receiptHandle: message.ReceiptHandle ?? '',
    origin: 'lambda',
    functionArn: context.functionArn,
    event,
    source: event.source,
    what: describeEvent(event),
    error,
    condition: attempts === undefined ? condition : `${condition} after ${attempts} attempt${attempts === 1 ? '' : 's'}`,
    ...(attempts === undefined ? {} : { attempts }),
  };
}

function parseSchedulerDeadLetter(message: Message): FailedInvocation | string {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  if (attribute('IS_PAYLOAD_TRUNCATED') === 'true') return 'Scheduler truncated the event in this dead letter; it cannot be re-run as is';
  let input: unknown;
  try {
    input = JSON.parse(message.Body ?? '');
  } catch {
    return 'a Scheduler dead letter whose body is not JSON (expected the schedule input {source, scheduledTime})';
  }
  if (!isObject(input) || typeof input.source !== 'string') return 'a Scheduler dead letter without an apilake event (expected the schedule input {source, scheduledTime})';
  const scheduled = typeof input.scheduledTime === 'string' && input.scheduledTime !== SCHEDULED_TIME_PLACEHOLDER ? input.scheduledTime : attribute('SCHEDULED_TIME');
  if (!scheduled) return 'a Scheduler dead letter with neither a scheduledTime in its body nor a SCHEDULED_TIME attribute';
  const event = { ...input, scheduledTime: scheduled };
  const target = attribute('TARGET_ARN');
  const retries = Number(attribute('RETRY_ATTEMPTS'));
  const exhausted = attribute('EXHAUSTED_RETRY_CONDITION');
  const retried = Number.isInteger(retries) ? ` after ${retries} retr${retries === 1 ? 'y' : 'ies'}` : '';
  return {
    messageId: message.MessageId ?? '?',
    receiptHandle: message.ReceiptHandle ?? '',
    origin: 'scheduler',
    // A templated Lambda target's ARN is the function's; a universal target's is `arn:aws:scheduler:::aws-sdk:…`.
    ...(target && /^arn:aws[a-z-]*:lambda:/.test(target) ? { functionArn: target } : {}),
    event,
    source: input.source,
    what: `scheduled ${scheduled}`,
    error: `${attribute('ERROR_CODE') ?? 'unknown error code'}: ${attribute('ERROR_MESSAGE') ?? 'no message'}`,
    // Scheduler sets EXHAUSTED_RETRY_CONDITION only for retryable errors; without it the error was permanent.
    condition: exhausted ? `${exhausted}${retried}` : `not retried: a permanent error${retried}`,
    ...(Number.isInteger(retries) ? { attempts: retries + 1 } : {}),
  };
}

/** How an event reads in a list: the tick it stands for, or the backfill window. */
function describeEvent(event: Record<string, unknown>): string {
  if (typeof event.scheduledTime === 'string') return `scheduled ${event.scheduledTime}`;
  const window = isObject(event.window) ? event.window : {};
  return `${typeof event.stream === 'string' ? `stream ${event.stream} ` : ''}[${String(window.start)}, ${String(window.end)})`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
