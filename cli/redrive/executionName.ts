/**
 * The name of a redrive's durable execution. Lambda treats the name as an idempotency key: an
 * invocation that names an execution which already exists with the same payload gets that
 * execution back instead of starting another, until the function's retention period has passed
 * ("Idempotency", Execution names:
 * https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html#durable-idempotency-execution-names).
 * Deriving it from the message id means a redrive killed and run again finds the execution the
 * first one started; the attempt number gives a message that failed again a fresh execution.
 * Names are the function's, across its versions, while an execution belongs to the version its
 * invocation resolved to: the version in the name gives a message whose execution failed before a
 * deploy moved the alias a fresh execution on the new version, rather than the old failure back.
 */

import { createHash } from 'node:crypto';

/** Attempts a message's names run through: two digits each, so no name is another's prefix or part. */
export const MAX_ATTEMPTS = 100;

/**
 * `redrive-<first 32 hex digits of SHA-256(message id)>-v<version>-<attempt, two digits>`: at most
 * 64 characters, only `[a-z0-9-]` (`$LATEST` is written `latest`).
 * @param version the function version the invocation resolves to
 */
export function executionName(messageId: string, version: string, attempt: number): string {
  if (!Number.isInteger(attempt) || attempt < 0 || attempt >= MAX_ATTEMPTS) throw new RangeError(`attempt ${attempt} is outside 0–${MAX_ATTEMPTS - 1}`);
  const v = version === '$LATEST' ? 'latest' : version.replace(/[^0-9A-Za-z]/g, '');
  return `redrive-${createHash('sha256').update(messageId).digest('hex').slice(0, 32)}-v${v}-${String(attempt).padStart(2, '0')}`;
}
