/**
 * The name of a redrive's durable execution. Lambda treats the name as an idempotency key: an
 * invocation that names an execution which already exists with the same payload gets that
 * execution back instead of starting another, until the function's retention period has passed
 * ("Idempotency", Execution names:
 * https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html#durable-idempotency-execution-names).
 * Deriving it from the message id means a redrive killed and run again finds the execution the
 * first one started; the attempt number gives a message that failed again a fresh execution.
 */

import { createHash } from 'node:crypto';

/** `redrive-<first 32 hex digits of SHA-256(message id)>-<attempt>`: short (about 42 characters) and only `[a-z0-9-]`. */
export function executionName(messageId: string, attempt: number): string {
  return `redrive-${createHash('sha256').update(messageId).digest('hex').slice(0, 32)}-${attempt}`;
}
