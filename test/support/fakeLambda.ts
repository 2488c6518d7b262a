/**
 * The Lambda Invoke API (REST, `POST /2015-03-31/functions/{name}/invocations`) on loopback, for
 * CLI processes that cannot take an in-process SDK mock: moto implements Lambda but needs Docker
 * to invoke. Point the CLI at it with AWS_ENDPOINT_URL_LAMBDA. Every call is recorded; a
 * responder decides what the "function" returns.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One recorded invocation. */
export interface FakeInvocation {
  /** The FunctionName path parameter, decoded (a name or an ARN). */
  readonly functionName: string;
  readonly invocationType: string;
  readonly event: unknown;
}

/** What the function answers: its return value, or an error Lambda reports as a function error. */
export type FakeLambdaAnswer = { readonly result: unknown } | { readonly error: { errorType: string; errorMessage: string } };

/** A running fake Lambda. */
export interface FakeLambda {
  readonly endpoint: string;
  readonly invocations: FakeInvocation[];
  respond(answer: (invocation: FakeInvocation) => FakeLambdaAnswer): void;
  close(): Promise<void>;
}

export async function startFakeLambda(): Promise<FakeLambda> {
  const invocations: FakeInvocation[] = [];
  let answer: (invocation: FakeInvocation) => FakeLambdaAnswer = () => ({ result: null });
  const server = createServer((req, res) => {
    // GetFunctionConfiguration: a function that is not durable (no DurableConfig), so redrive invokes it synchronously.
    const configuration = /^\/2015-03-31\/functions\/([^/?]+)\/configuration/.exec(req.url ?? '');
    if (configuration && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ FunctionName: decodeURIComponent(configuration[1]!) }));
      return;
    }
    const match = /^\/2015-03-31\/functions\/([^/]+)\/invocations/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!match || req.method !== 'POST') {
        res.writeHead(404, { 'content-type': 'application/json', 'x-amzn-errortype': 'ResourceNotFoundException' });
        res.end(JSON.stringify({ message: `no route ${req.method} ${req.url}` }));
        return;
      }
      const invocation = {
        functionName: decodeURIComponent(match[1]!),
        invocationType: String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse'),
        event: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown,
      };
      invocations.push(invocation);
      const outcome = answer(invocation);
      const headers: Record<string, string> = { 'content-type': 'application/json', 'x-amz-executed-version': '$LATEST' };
      if ('error' in outcome) headers['x-amz-function-error'] = 'Unhandled';
      res.writeHead(200, headers);
      res.end(JSON.stringify('error' in outcome ? outcome.error : outcome.result));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    invocations,
    respond: (fn) => {
      answer = fn;
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
