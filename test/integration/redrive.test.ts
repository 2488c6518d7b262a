import { GetFunctionConfigurationCommand, InvokeCommand, LambdaClient, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { redrive, type RedriveOutcome } from '../../cli/redrive/redrive.js';
import { FUNCTION_ARN, lambdaRecord, schedulerDeadLetter } from '../support/deadLetters.js';
import { MOTO_AWS } from '../support/motoServer.js';
import { useDeadLetterQueues } from '../support/deadLetterQueues.js';

// SQS is moto's (a real protocol server); only Lambda is mocked: moto needs Docker to run a function.
// The function here is not durable, so it is invoked synchronously (test/integration/redriveDurable.test.ts: a durable one).
const lambdaMock = mockClient(LambdaClient);
const queues = useDeadLetterQueues();
let sqs: SQSClient;
let queueUrl: string;

const payload = (value: unknown) => Buffer.from(JSON.stringify(value)) as unknown as InvokeCommandOutput['Payload'];
const tickOk = { source: 'shop', scheduledTime: '2024-01-01T10:00:00Z' };
const tickStillBad = { source: 'shop', scheduledTime: '2024-01-01T11:00:00Z' };
const windowOk = { source: 'shop', stream: 'orders', window: { start: '2024-01-01T05:00:00Z', end: '2024-01-01T06:00:00Z' } };
const undeliveredTick = { source: 'shop', scheduledTime: '2024-01-01T12:00:00Z' };

/** Both documented shapes, one unparseable body, and a Scheduler letter whose target is not a function ARN. */
const LETTERS = [
  lambdaRecord(tickOk, { condition: 'RetriesExhausted', errorType: 'WindowsFailedError', errorMessage: '1 window(s) failed: orders: HTTP 503' }),
  lambdaRecord(tickStillBad, { condition: 'EventAgeExceeded' }),
  lambdaRecord(windowOk, { condition: 'RetriesExhausted', errorType: 'WindowsFailedError', errorMessage: 'orders: HTTP 500' }),
  schedulerDeadLetter(undeliveredTick, {
    code: 'AWS.Scheduler.InternalServerError',
    message: 'Unexpected error occurred while processing the request.',
    exhausted: 'MaximumRetryAttempts',
    retries: 4,
  }),
  schedulerDeadLetter(
    { source: 'shop', scheduledTime: '<aws.scheduler.scheduled-time>' },
    { code: 'AccessDeniedException', message: 'not authorized to perform: lambda:InvokeFunction', retries: 0, targetArn: 'arn:aws:scheduler:::aws-sdk:lambda:invoke' },
  ),
  { body: 'garbage{' },
];

beforeEach(async () => {
  lambdaMock.reset();
  lambdaMock.on(GetFunctionConfigurationCommand).resolves({ FunctionName: 'apilake-prod-shop' });
  ({ sqs, queueUrl } = await queues.fresh(LETTERS));
  lambdaMock.on(InvokeCommand).callsFake((input: { Payload: Uint8Array }) => {
    const event = JSON.parse(Buffer.from(input.Payload).toString()) as { scheduledTime?: string };
    if (event.scheduledTime === tickStillBad.scheduledTime) return { StatusCode: 200, FunctionError: 'Unhandled', Payload: payload({ errorType: 'WindowsFailedError', errorMessage: 'still 503' }) };
    return { StatusCode: 200, Payload: payload({ source: 'shop', trigger: 'scheduled', streams: [{ stream: 'orders', status: 'committed' }] }) };
  });
});

const counts = () => queues.counts(queueUrl);
const invokedEvents = () =>
  lambdaMock.commandCalls(InvokeCommand).map((c) => ({ fn: c.args[0].input.FunctionName, event: JSON.parse(Buffer.from(c.args[0].input.Payload as Uint8Array).toString()) as unknown }));
const byWhat = (outcomes: readonly RedriveOutcome[], what: string) => outcomes.find((o) => o.kind !== 'unparseable' && o.invocation.what === what)!;
const functionOf = (source: string) => Promise.resolve({ name: `apilake-prod-${source}` });

describe('redrive against SQS (moto), both dead-letter formats', () => {
  it('lists each message with why it failed, and a dry run leaves every message visible at once', async () => {
    const { outcomes, released } = await redrive({ sqs, lambda: new LambdaClient(MOTO_AWS), queueUrl, max: 10, dryRun: true });
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['listed', 'listed', 'listed', 'listed', 'listed', 'unparseable']);
    expect(byWhat(outcomes, 'scheduled 2024-01-01T10:00:00Z')).toMatchObject({
      invocation: { origin: 'lambda', error: 'WindowsFailedError: 1 window(s) failed: orders: HTTP 503', condition: 'RetriesExhausted after 3 attempts', functionArn: `${FUNCTION_ARN}:$LATEST` },
    });
    // EventAgeExceeded records carry no response: the reason comes from the condition, never "unknown error".
    expect(byWhat(outcomes, 'scheduled 2024-01-01T11:00:00Z')).toMatchObject({
      invocation: { condition: 'EventAgeExceeded after 0 attempts', error: expect.stringContaining("expired in Lambda's queue") as string },
    });
    expect(byWhat(outcomes, 'stream orders [2024-01-01T05:00:00Z, 2024-01-01T06:00:00Z)')).toMatchObject({ invocation: { error: 'WindowsFailedError: orders: HTTP 500' } });
    expect(byWhat(outcomes, 'scheduled 2024-01-01T12:00:00Z')).toMatchObject({
      invocation: {
        origin: 'scheduler',
        functionArn: FUNCTION_ARN,
        event: undeliveredTick,
        error: 'AWS.Scheduler.InternalServerError: Unexpected error occurred while processing the request.',
        condition: 'MaximumRetryAttempts after 4 retries',
      },
    });
    // No EXHAUSTED_RETRY_CONDITION: a permanent error; the placeholder is replaced by SCHEDULED_TIME.
    expect(byWhat(outcomes, 'scheduled 2024-01-01T13:00:00Z')).toMatchObject({
      invocation: { origin: 'scheduler', error: 'AccessDeniedException: not authorized to perform: lambda:InvokeFunction', condition: 'not retried: a permanent error after 0 retries' },
    });
    expect(outcomes.find((o) => o.kind === 'unparseable')).toMatchObject({ reason: expect.stringContaining('body is not JSON') as string });
    expect(lambdaMock.commandCalls(InvokeCommand)).toHaveLength(0);
    expect(released).toBe(6);
    expect(await counts()).toEqual({ visible: 6, hidden: 0 });
  });

  it('redrives everything after a dry run: the dry run hides nothing from the real run', async () => {
    await redrive({ sqs, lambda: new LambdaClient(MOTO_AWS), queueUrl, max: 10, dryRun: true });
    const { outcomes } = await redrive({ sqs, lambda: new LambdaClient(MOTO_AWS), queueUrl, max: 10, dryRun: false, functionOf });
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['redriven', 'redriven', 'redriven', 'redriven', 'still_failing', 'unparseable']);
    expect(invokedEvents()).toEqual(
      expect.arrayContaining([
        { fn: `${FUNCTION_ARN}:$LATEST`, event: tickOk },
        { fn: `${FUNCTION_ARN}:$LATEST`, event: windowOk },
        { fn: FUNCTION_ARN, event: undeliveredTick },
        // The universal-target letter names no function: the stack outputs do.
        { fn: 'apilake-prod-shop', event: { source: 'shop', scheduledTime: '2024-01-01T13:00:00Z' } },
      ]),
    );
    expect(byWhat(outcomes, 'scheduled 2024-01-01T11:00:00Z')).toMatchObject({ kind: 'still_failing', error: 'WindowsFailedError: still 503' });
    // Deleted only what succeeded; the failing and the unparseable message are visible again at once.
    expect(await counts()).toEqual({ visible: 2, hidden: 0 });
  });

  it('keeps a Scheduler letter whose function cannot be found, and says why', async () => {
    const { outcomes } = await redrive({ sqs, lambda: new LambdaClient(MOTO_AWS), queueUrl, max: 10, dryRun: false, functionOf: () => Promise.resolve({ error: 'cdk-outputs.json not found' }) });
    expect(byWhat(outcomes, 'scheduled 2024-01-01T13:00:00Z')).toMatchObject({ kind: 'still_failing', error: 'no function to invoke for source shop: cdk-outputs.json not found' });
    expect(await counts()).toEqual({ visible: 3, hidden: 0 });
  });

  it('stops at --max and releases the messages it received beyond it', async () => {
    const { outcomes } = await redrive({ sqs, lambda: new LambdaClient(MOTO_AWS), queueUrl, max: 2, dryRun: false, functionOf });
    expect(outcomes).toHaveLength(2);
    const deleted = outcomes.filter((o) => o.kind === 'redriven').length;
    expect(await counts()).toEqual({ visible: 6 - deleted, hidden: 0 });
  });

  it('stops before the next message when interrupted, and releases what it received', async () => {
    const controller = new AbortController();
    const { outcomes } = await redrive({
      sqs,
      lambda: new LambdaClient(MOTO_AWS),
      queueUrl,
      max: 10,
      dryRun: false,
      functionOf,
      signal: controller.signal,
      onOutcome: () => controller.abort('interrupted'),
    });
    expect(outcomes).toHaveLength(1);
    expect(await counts()).toEqual({ visible: outcomes[0]!.kind === 'redriven' ? 5 : 6, hidden: 0 });
  });
});
