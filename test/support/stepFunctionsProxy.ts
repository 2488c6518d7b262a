/**
 * Step Functions on loopback: moto's API (CreateStateMachine, StartExecution, DescribeExecution,
 * StopExecution, ListExecutions) behind a small proxy that can make an execution end. moto_server
 * keeps every execution RUNNING until it is stopped (it runs a definition only in its in-process
 * parser mode, and a `lambda:invoke` task only with Docker); real Step Functions ends a Standard
 * execution on its own, with status SUCCEEDED, FAILED, TIMED_OUT or ABORTED and a `stopDate`
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeExecution.html).
 * The test decides when and how an execution ends; the proxy then answers DescribeExecution,
 * ListExecutions (status filter included), StopExecution and a StartExecution of the same name as
 * Step Functions does for an ended execution.
 */

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readAwsJsonRequest } from './awsJsonRequest.js';

/** How an execution ended. */
export interface ExecutionEnd {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT';
  readonly error?: string;
  readonly cause?: string;
  /** The execution's output (JSON text), given with SUCCEEDED. */
  readonly output?: string;
}

/** A started execution, as the proxy saw it. */
export interface StartedExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: string;
}

/** A running proxy. */
export interface StepFunctionsProxy {
  readonly endpoint: string;
  /** Every execution started through the proxy, in order. */
  readonly started: StartedExecution[];
  /** Called after moto started an execution; what it returns (if anything) ends it at once. */
  onStart(handler: (execution: StartedExecution) => Promise<ExecutionEnd | undefined> | ExecutionEnd | undefined): void;
  /** Ends an execution now. */
  end(executionArn: string, end: ExecutionEnd): void;
  close(): Promise<void>;
}

export async function startStepFunctionsProxy(motoEndpoint: string): Promise<StepFunctionsProxy> {
  const started: StartedExecution[] = [];
  const ended = new Map<string, ExecutionEnd & { stopDate: number }>();
  let handler: (execution: StartedExecution) => Promise<ExecutionEnd | undefined> | ExecutionEnd | undefined = () => undefined;

  const server = createServer((req, res) => {
    void (async () => {
      const { operation, body, input: request } = await readAwsJsonRequest(req);
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length')) as Record<string, string>;
      // An ended execution cannot be stopped: Step Functions leaves it as it ended.
      if (operation === 'StopExecution' && ended.has(String(request.executionArn))) {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ stopDate: ended.get(String(request.executionArn))!.stopDate / 1000 }));
        return;
      }
      // A name stays taken after its execution ended (moto, which never ends one, would return it as running).
      const named = operation === 'StartExecution' && typeof request.name === 'string' ? `${String(request.stateMachineArn).replace(':stateMachine:', ':execution:')}:${request.name}` : undefined;
      if (named && ended.has(named)) {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'ExecutionAlreadyExists', message: `Execution Already Exists: '${named}'` }));
        return;
      }
      // moto filters by its own status; the proxy filters after rewriting it.
      const forwarded = operation === 'ListExecutions' && request.statusFilter ? JSON.stringify({ ...request, statusFilter: undefined }) : body;
      const upstream = await fetch(`${motoEndpoint}${req.url ?? '/'}`, { method: req.method, headers, body: req.method === 'POST' ? forwarded : undefined });
      let text = await upstream.text();
      if (upstream.ok && operation === 'StartExecution') {
        const { executionArn } = JSON.parse(text) as { executionArn: string };
        const execution = { executionArn, name: executionArn.slice(executionArn.lastIndexOf(':') + 1), input: typeof request.input === 'string' ? request.input : '{}' };
        started.push(execution);
        const end = await handler(execution);
        if (end) ended.set(executionArn, { ...end, stopDate: Date.now() });
      }
      if (upstream.ok && operation === 'DescribeExecution') {
        const described = JSON.parse(text) as Record<string, unknown>;
        const end = ended.get(String(described.executionArn));
        if (end)
          text = JSON.stringify({
            ...described,
            status: end.status,
            stopDate: end.stopDate / 1000,
            ...(end.error ? { error: end.error, cause: end.cause } : {}),
            ...(end.output ? { output: end.output } : {}),
          });
      }
      if (upstream.ok && operation === 'ListExecutions') {
        const listed = JSON.parse(text) as { executions: { executionArn: string; status: string }[] };
        const executions = listed.executions.map((e) => (ended.has(e.executionArn) ? { ...e, status: ended.get(e.executionArn)!.status } : e));
        text = JSON.stringify({ ...listed, executions: request.statusFilter ? executions.filter((e) => e.status === request.statusFilter) : executions });
      }
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/x-amz-json-1.0' });
      res.end(text);
    })().catch((error: unknown) => {
      res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    started,
    onStart: (fn) => {
      handler = fn;
    },
    end: (executionArn, end) => {
      ended.set(executionArn, { ...end, stopDate: Date.now() });
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
