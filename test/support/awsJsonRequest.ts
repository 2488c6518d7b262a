/**
 * Reads a request of AWS's JSON 1.0 protocol, as the SDK sends it to Step Functions: a POST whose
 * `X-Amz-Target` header names the operation (`AWSStepFunctions.StartExecution`) and whose body is
 * the operation's input as a JSON object.
 */

import type { IncomingMessage } from 'node:http';

/** One JSON 1.0 request. */
export interface AwsJsonRequest {
  /** The operation, without its service prefix: `StartExecution`. */
  readonly operation: string;
  /** The body as received, to forward unchanged. */
  readonly body: string;
  /** The body parsed; `{}` when it is empty. */
  readonly input: Record<string, unknown>;
}

/** Reads `req` to its end and names its operation. @throws SyntaxError when the body is not JSON */
export async function readAwsJsonRequest(req: IncomingMessage): Promise<AwsJsonRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const target = String(req.headers['x-amz-target'] ?? '');
  return { operation: target.slice(target.indexOf('.') + 1), body, input: JSON.parse(body || '{}') as Record<string, unknown> };
}
