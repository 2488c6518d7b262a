/**
 * Turns the AWS SDK's errors about the caller's set-up (no region, no credentials, access
 * denied, a resource that does not exist, an endpoint that does not answer) into errors that
 * say what to do. Anything else stays as it is.
 */

import { ApilakeError } from '../../functions/index.js';
import { inputError } from './hint.js';

/** Names AWS services give to "you may not" and "we do not know you". */
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);

/** Names of "no such resource" errors of the services the CLI calls. */
const NOT_FOUND = new Set(['QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue', 'ResourceNotFoundException', 'NoSuchBucket']);

/** Network failures that mean the endpoint itself cannot be reached. */
const UNREACHABLE = new Set(['ENOTFOUND', 'ECONNREFUSED', 'EAI_AGAIN', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH']);

/**
 * @param doing what the command was doing, e.g. `reading queue https://…`
 * @returns an ApilakeError with a hint (exit 2), or undefined when the error is not a set-up problem.
 */
export function explainAwsError(error: unknown, doing?: string): ApilakeError | undefined {
  if (!(error instanceof Error) || error instanceof ApilakeError) return undefined;
  const where = doing ? ` while ${doing}` : '';
  const name = error.name;
  const code = (error as NodeJS.ErrnoException).code;
  const regionHint = 'set AWS_REGION (or AWS_PROFILE with a region in ~/.aws/config), e.g. `export AWS_REGION=eu-west-1`';
  if (error.message === 'Region is missing') return inputError(`no AWS region is configured${where}`, regionHint, { cause: error });
  const badRegion = /^Region not accepted: region="(.*)"/.exec(error.message);
  if (badRegion) return inputError(`AWS region "${badRegion[1]}" is not a region name${where}`, regionHint, { cause: error });
  if (name === 'CredentialsProviderError') {
    return inputError(`no AWS credentials found${where}: ${error.message}`, 'sign in (`aws sso login`, or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) and try again', {
      cause: error,
    });
  }
  if (ACCESS_DENIED.has(name)) {
    return inputError(
      `AWS refused the request${where}: ${name}: ${error.message}`,
      'check that your credentials are current and belong to the account the stack is deployed in, with permission for this call',
      { cause: error },
    );
  }
  if (NOT_FOUND.has(name)) {
    return inputError(`not found${where}: ${name}: ${error.message}`, 'check the name or URL you passed, the region (AWS_REGION), and that --outputs/--stage point at the deployed stack', {
      cause: error,
    });
  }
  if (code !== undefined && UNREACHABLE.has(code)) {
    return inputError(`cannot reach AWS${where}: ${error.message}`, 'check your network, AWS_REGION, and any AWS_ENDPOINT_URL* variable', { cause: error });
  }
  return undefined;
}
