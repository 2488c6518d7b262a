/**
 * A LambdaClient stand-in for the durable execution APIs redrive calls, which no local server
 * runs (moto needs Docker to invoke): GetFunctionConfiguration, Invoke (synchronous, or
 * asynchronous with a DurableExecutionName), ListDurableExecutionsByFunction and
 * GetDurableExecution. Execution names behave as Lambda documents them: the same name with the
 * same payload returns the existing execution, with another payload it fails with
 * DurableExecutionAlreadyStartedException
 * (https://docs.aws.amazon.com/lambda/latest/dg/durable-execution-idempotency.html).
 * An execution belongs to the version its invocation resolved to (an alias resolves to its
 * version), as its ARN says (`…function:<name>:<version>/durable-execution/<name>/<id>`,
 * https://docs.aws.amazon.com/lambda/latest/api/API_GetDurableExecution.html), and
 * ListDurableExecutionsByFunction lists the executions of its Qualifier only: "If not specified,
 * lists executions for the $LATEST version"
 * (https://docs.aws.amazon.com/lambda/latest/api/API_ListDurableExecutionsByFunction.html).
 * A plan decides how many reads an execution stays RUNNING and how it ends.
 */

import {
  DurableExecutionAlreadyStartedException,
  GetDurableExecutionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  ListDurableExecutionsByFunctionCommand,
  type ErrorObject,
  type LambdaClient,
} from '@aws-sdk/client-lambda';

/** How one execution goes: RUNNING for `runningReads` reads of its status, then its end. */
export interface ExecutionPlan {
  readonly runningReads: number;
  readonly end: { readonly status: 'SUCCEEDED'; readonly result: unknown } | { readonly status: 'FAILED' | 'TIMED_OUT' | 'STOPPED'; readonly error: ErrorObject };
}

/** One execution the fake started. */
export interface FakeExecution {
  readonly arn: string;
  readonly name: string;
  readonly functionName: string;
  /** The version the invocation resolved to: `$LATEST`, or a number. */
  readonly version: string;
  readonly payload: string;
  readonly plan: ExecutionPlan;
  reads: number;
}

/** A call the fake received: the command's class name and its input. */
export interface FakeLambdaCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

export interface FakeDurableLambdaOptions {
  /** Whether GetFunctionConfiguration reports a DurableConfig. @default true */
  readonly durable?: boolean;
  /** How an execution started with this event goes. */
  readonly plan?: (event: unknown) => ExecutionPlan;
  /** What a synchronous invocation returns (a function that is not durable). */
  readonly syncResult?: (event: unknown) => unknown;
  /** Called on every read of an execution's status, before the answer. */
  readonly onRead?: (execution: FakeExecution) => void;
  /** Aliases of the function and the version each points to, read at each call (a deploy may move one). @default { live: '7' } */
  readonly aliases?: Readonly<Record<string, string>>;
}

/** The fake and what it saw. */
export interface FakeDurableLambda {
  readonly client: LambdaClient;
  readonly calls: FakeLambdaCall[];
  readonly executions: FakeExecution[];
  /** Calls of one command, by class name. */
  callsOf(command: string): Record<string, unknown>[];
}

export function fakeDurableLambda(options: FakeDurableLambdaOptions = {}): FakeDurableLambda {
  const calls: FakeLambdaCall[] = [];
  const executions: FakeExecution[] = [];
  const plan = options.plan ?? (() => ({ runningReads: 0, end: { status: 'SUCCEEDED', result: null } }));
  const aliases = options.aliases ?? { live: '7' };
  // `[arn:…:function:]<name>[:<qualifier>]` → the function and the version the qualifier resolves to.
  const resolve = (functionName: string, qualifier?: string) => {
    const match = /^((?:.*:)?function:)?([^:]+)(?::([^:]+))?$/.exec(functionName)!;
    const named = qualifier ?? match[3] ?? '$LATEST';
    return { base: `${match[1] ?? ''}${match[2]!}`, version: aliases[named] ?? named };
  };
  const status = (execution: FakeExecution) => (execution.reads <= execution.plan.runningReads ? 'RUNNING' : execution.plan.end.status);
  const send = (command: { input: Record<string, unknown> }): Promise<unknown> => {
    calls.push({ command: command.constructor.name, input: command.input });
    if (command instanceof GetFunctionConfigurationCommand) {
      const { version } = resolve(String(command.input.FunctionName), command.input.Qualifier);
      return Promise.resolve({
        FunctionName: command.input.FunctionName,
        Version: version,
        ...((options.durable ?? true) ? { DurableConfig: { ExecutionTimeout: 86_400, RetentionPeriodInDays: 7 } } : {}),
      });
    }
    if (command instanceof ListDurableExecutionsByFunctionCommand) {
      const { version } = resolve(String(command.input.FunctionName), command.input.Qualifier);
      // The name filter is read as "contains" (boto3's documentation of the same API says so): the caller must compare.
      const found = executions.filter((e) => e.name.includes(String(command.input.DurableExecutionName)) && e.version === version);
      return Promise.resolve({ DurableExecutions: found.map((e) => ({ DurableExecutionArn: e.arn, DurableExecutionName: e.name, Status: status(e), StartTimestamp: new Date(0) })) });
    }
    if (command instanceof InvokeCommand) {
      const payload = Buffer.from(command.input.Payload as Uint8Array).toString('utf8');
      if (command.input.InvocationType !== 'Event') {
        return Promise.resolve({ StatusCode: 200, Payload: Buffer.from(JSON.stringify(options.syncResult?.(JSON.parse(payload)) ?? null)) });
      }
      if (!(options.durable ?? true)) return Promise.resolve({ StatusCode: 202 });
      const name = command.input.DurableExecutionName as string;
      const existing = executions.find((e) => e.name === name);
      if (existing && existing.payload !== payload) {
        return Promise.reject(new DurableExecutionAlreadyStartedException({ $metadata: {}, message: `an execution named ${name} was started with another payload` }));
      }
      if (existing) return Promise.resolve({ StatusCode: 202, DurableExecutionArn: existing.arn });
      const { base, version } = resolve(String(command.input.FunctionName));
      const execution: FakeExecution = {
        arn: `${base}:${version}/durable-execution/${name}/${executions.length + 1}`,
        name,
        functionName: String(command.input.FunctionName),
        version,
        payload,
        plan: plan(JSON.parse(payload)),
        reads: 0,
      };
      executions.push(execution);
      return Promise.resolve({ StatusCode: 202, DurableExecutionArn: execution.arn });
    }
    if (command instanceof GetDurableExecutionCommand) {
      const execution = executions.find((e) => e.arn === command.input.DurableExecutionArn);
      if (!execution) return Promise.reject(new Error(`no execution ${String(command.input.DurableExecutionArn)}`));
      execution.reads++;
      options.onRead?.(execution);
      const now = status(execution);
      const end = execution.plan.end;
      return Promise.resolve({
        DurableExecutionArn: execution.arn,
        DurableExecutionName: execution.name,
        Status: now,
        ...(now === 'SUCCEEDED' && end.status === 'SUCCEEDED' ? { Result: JSON.stringify(end.result) } : {}),
        ...(now !== 'RUNNING' && end.status !== 'SUCCEEDED' ? { Error: end.error } : {}),
      });
    }
    return Promise.reject(new Error(`the fake Lambda does not answer ${command.constructor.name}`));
  };
  return {
    client: { send } as unknown as LambdaClient,
    calls,
    executions,
    callsOf: (command) => calls.filter((c) => c.command === command).map((c) => c.input),
  };
}
