/**
 * Dead letters shaped exactly as AWS documents them, for redrive tests:
 * - Lambda's on-failure destination record ("Capturing records of Lambda asynchronous
 *   invocations", https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html);
 * - EventBridge Scheduler's dead-letter event: the target input as body, the error in message
 *   attributes ("Configuring a schedule's dead-letter queue",
 *   https://docs.aws.amazon.com/scheduler/latest/UserGuide/configuring-schedule-dlq.html).
 */

import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';

/** A message as it is sent to the queue. */
export interface DeadLetterMessage {
  readonly body: string;
  readonly attributes?: Record<string, MessageAttributeValue>;
}

export const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:apilake-prod-shop';

/** A Lambda on-failure record: `RetriesExhausted` with the function's error, or `EventAgeExceeded` before any attempt. */
export function lambdaRecord(
  event: Record<string, unknown>,
  failure: { condition: 'RetriesExhausted'; errorType: string; errorMessage: string } | { condition: 'EventAgeExceeded' },
): DeadLetterMessage {
  const ran = failure.condition === 'RetriesExhausted';
  return {
    body: JSON.stringify({
      version: '1.0',
      timestamp: '2024-01-01T10:05:00.000Z',
      requestContext: { requestId: 'e4b46cbf-b738-xmpl-8880-a18cdf61200e', functionArn: `${FUNCTION_ARN}:$LATEST`, condition: failure.condition, approximateInvokeCount: ran ? 3 : 0 },
      requestPayload: event,
      ...(ran
        ? {
            responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
            responsePayload: { errorType: failure.errorType, errorMessage: failure.errorMessage, trace: [] },
          }
        : {}),
    }),
  };
}

/** A Scheduler dead-letter event for a tick of `source` scheduled at `scheduledTime`. */
export function schedulerDeadLetter(
  input: { source: string; scheduledTime: string },
  error: { code: string; message: string; exhausted?: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds'; retries: number; targetArn?: string },
): DeadLetterMessage {
  const attribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  return {
    body: JSON.stringify(input),
    attributes: {
      ERROR_CODE: attribute(error.code),
      ERROR_MESSAGE: attribute(error.message),
      EXECUTION_ID: attribute('ad06616e51cdf74a'),
      ...(error.exhausted ? { EXHAUSTED_RETRY_CONDITION: attribute(error.exhausted) } : {}),
      IS_PAYLOAD_TRUNCATED: attribute('false'),
      RETRY_ATTEMPTS: attribute(String(error.retries)),
      SCHEDULED_TIME: attribute(input.scheduledTime.startsWith('<') ? '2024-01-01T13:00:00Z' : input.scheduledTime),
      SCHEDULE_ARN: attribute('arn:aws:scheduler:us-east-1:123456789012:schedule/default/apilake-prod-shop'),
      TARGET_ARN: attribute(error.targetArn ?? FUNCTION_ARN),
    },
  };
}

/** Sends each message to the queue. */
export async function sendAll(sqs: SQSClient, queueUrl: string, messages: readonly DeadLetterMessage[]): Promise<void> {
  for (const m of messages) await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: m.body, MessageAttributes: m.attributes }));
}
