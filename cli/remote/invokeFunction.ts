/** A synchronous (RequestResponse) invocation of a deployed function, decoded once for every caller. */

import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

/** What came back: the raw payload text and, when the function threw, its error. */
export interface Invocation {
  readonly payload: string;
  /** Set when Lambda reports a function error; `message` falls back to the start of the payload. */
  readonly functionError?: { readonly type: string; readonly message: string };
}

/** Invokes `functionName` with `event` and waits for its result. Network and permission errors throw. */
export async function invokeFunction(lambda: LambdaClient, functionName: string, event: unknown): Promise<Invocation> {
  const response = await lambda.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(event)) }));
  const payload = response.Payload ? Buffer.from(response.Payload).toString('utf8') : '';
  if (!response.FunctionError) return { payload };
  const error = parseJsonOrUndefined(payload) as { errorType?: string; errorMessage?: string } | undefined;
  return { payload, functionError: { type: error?.errorType ?? response.FunctionError, message: error?.errorMessage ?? payload.slice(0, 300) } };
}

/** `JSON.parse`, or `undefined` for text that is not JSON. */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
