import { InvokeCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { LambdaExecutionStatus } from '../../functions/ingest/LambdaExecutionStatus.js';
import { fakeDurableLambda } from '../support/fakeDurableLambda.js';

describe('LambdaExecutionStatus', () => {
  it("reads an execution's status with GetDurableExecution, without its input and result", async () => {
    // GIVEN an execution that runs for one read, then times out
    const lambda = fakeDurableLambda({ plan: () => ({ runningReads: 1, end: { status: 'TIMED_OUT', error: { ErrorType: 'Timeout' } } }) });
    const { DurableExecutionArn } = (await lambda.client.send(
      new InvokeCommand({ FunctionName: 'apilake-dev-shop:live', InvocationType: 'Event', DurableExecutionName: 'tick-1', Payload: Buffer.from('{}') }),
    )) as { DurableExecutionArn: string };
    const lookup = new LambdaExecutionStatus(lambda.client);
    // WHEN its status is read twice THEN it is running, then timed out
    expect(await lookup.durableExecutionStatus(DurableExecutionArn)).toBe('RUNNING');
    expect(await lookup.durableExecutionStatus(DurableExecutionArn)).toBe('TIMED_OUT');
    expect(lambda.callsOf('GetDurableExecutionCommand')).toEqual([
      { DurableExecutionArn, IncludeExecutionData: false },
      { DurableExecutionArn, IncludeExecutionData: false },
    ]);
  });

  it("fails with the API's error when the execution cannot be read", async () => {
    const lookup = new LambdaExecutionStatus(fakeDurableLambda().client);
    await expect(lookup.durableExecutionStatus('arn:aws:lambda:us-east-1:000000000000:function:f:1/durable-execution/none/1')).rejects.toThrow(/no execution/);
  });
});
