import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { executionName } from '../../cli/redrive/executionName.js';
import { redrive, type RedriveOutcome } from '../../cli/redrive/redrive.js';
import { FUNCTION_ARN, lambdaRecord, schedulerDeadLetter, sendAll } from '../support/deadLetters.js';
import { fakeDurableLambda, type ExecutionPlan } from '../support/fakeDurableLambda.js';
import { ManualClock } from '../support/manualClock.js';
import { useDeadLetterQueues } from '../support/deadLetterQueues.js';

// SQS is moto's (a real protocol server); Lambda's durable execution APIs are a fake client: no local server runs them.
const queues = useDeadLetterQueues();
let sqs: SQSClient;
let queueUrl: string;

const tick = { source: 'shop', scheduledTime: '2024-01-01T10:00:00Z' };
const committed = { source: 'shop', trigger: 'scheduled', streams: [{ stream: 'orders', status: 'committed' }] };
const succeedsAfter = (runningReads: number): ExecutionPlan => ({ runningReads, end: { status: 'SUCCEEDED', result: committed } });
const failsAfter = (runningReads: number): ExecutionPlan => ({
  runningReads,
  end: { status: 'FAILED', error: { ErrorType: 'WindowsFailedError', ErrorMessage: '1 window(s) failed: orders: HTTP 503' } },
});

beforeEach(async () => {
  ({ sqs, queueUrl } = await queues.fresh([lambdaRecord(tick, { condition: 'RetriesExhausted', errorType: 'WindowsFailedError', errorMessage: 'orders: HTTP 503' })]));
});

const counts = () => queues.counts(queueUrl);
const messageIdOf = (outcome: RedriveOutcome) => (outcome.kind === 'unparseable' ? outcome.messageId : outcome.invocation.messageId);

describe('redrive of a durable function: an asynchronous execution, read until it ends', () => {
  it('starts the execution asynchronously under the message’s name, reads it until SUCCEEDED, and deletes the message', async () => {
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(3) });
    const clock = new ManualClock();
    const { outcomes } = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock });
    expect(outcomes.map((o) => o.kind)).toEqual(['redriven']);
    expect(lambda.callsOf('InvokeCommand')).toEqual([
      expect.objectContaining({ FunctionName: `${FUNCTION_ARN}:$LATEST`, InvocationType: 'Event', DurableExecutionName: executionName(messageIdOf(outcomes[0]!), '$LATEST', 0) }),
    ]);
    expect(JSON.parse(Buffer.from(lambda.callsOf('InvokeCommand')[0]!.Payload as Uint8Array).toString())).toEqual(tick);
    // Three reads RUNNING, the fourth SUCCEEDED, with the backoff's waits in between.
    expect(lambda.executions[0]!.reads).toBe(4);
    expect(clock.sleeps).toEqual([2_000, 4_000, 8_000]);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
  });

  it.each([
    ['FAILED', failsAfter(1), 'FAILED: WindowsFailedError: 1 window(s) failed: orders: HTTP 503'],
    ['TIMED_OUT', { runningReads: 0, end: { status: 'TIMED_OUT', error: { ErrorType: 'States.Timeout' } } } satisfies ExecutionPlan, 'TIMED_OUT: States.Timeout'],
    [
      'SUCCEEDED with a failed stream',
      { runningReads: 0, end: { status: 'SUCCEEDED', result: { ...committed, streams: [{ stream: 'orders', status: 'failed', error: 'HTTP 503' }] } } } satisfies ExecutionPlan,
      'orders: HTTP 503',
    ],
    ['SUCCEEDED rejecting the event', { runningReads: 0, end: { status: 'SUCCEEDED', result: { trigger: 'rejected', error: 'unknown source' } } } satisfies ExecutionPlan, 'rejected: unknown source'],
  ])('keeps the message, visible, when the execution ends %s', async (_, plan, error) => {
    const lambda = fakeDurableLambda({ plan: () => plan });
    const { outcomes } = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'still_failing', error })]);
    expect(await counts()).toEqual({ visible: 1, hidden: 0 });
  });

  it('stops waiting on a stop signal: the message is released, nothing is deleted, and the execution goes on', async () => {
    const controller = new AbortController();
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(100), onRead: (e) => e.reads === 3 && controller.abort('interrupted') });
    const { outcomes, released } = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock(), signal: controller.signal });
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'running', executionArn: lambda.executions[0]!.arn })]);
    expect(lambda.executions[0]!.reads).toBe(3);
    expect(released).toBe(1);
    expect(await counts()).toEqual({ visible: 1, hidden: 0 });
  });

  it('redriven again after a stop, the message finds its running execution by name and starts no second one', async () => {
    const controller = new AbortController();
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(5), onRead: (e) => e.reads === 2 && controller.abort('interrupted') });
    const first = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock(), signal: controller.signal });
    expect(first.outcomes.map((o) => o.kind)).toEqual(['running']);
    const second = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(second.outcomes.map((o) => o.kind)).toEqual(['redriven']);
    const name = executionName(messageIdOf(first.outcomes[0]!), '$LATEST', 0);
    expect(lambda.callsOf('ListDurableExecutionsByFunctionCommand').map((c) => c.DurableExecutionName)).toEqual([name, name]);
    expect(lambda.callsOf('InvokeCommand')).toHaveLength(1);
    expect(lambda.executions).toHaveLength(1);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
  });

  it('redriven again after its execution failed, the message gets a fresh execution under its next name', async () => {
    let runs = 0;
    const lambda = fakeDurableLambda({ plan: () => (runs++ === 0 ? failsAfter(0) : succeedsAfter(0)) });
    const first = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(first.outcomes.map((o) => o.kind)).toEqual(['still_failing']);
    const second = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(second.outcomes.map((o) => o.kind)).toEqual(['redriven']);
    const messageId = messageIdOf(first.outcomes[0]!);
    expect(lambda.executions.map((e) => e.name)).toEqual([executionName(messageId, '$LATEST', 0), executionName(messageId, '$LATEST', 1)]);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
  });

  /**
   * A Scheduler dead letter for the `live` alias, redriven once (its execution fails), then
   * `between` (a deploy, say), then redriven again (the next execution succeeds).
   */
  async function redriveThroughAliasTwice(aliases: Record<string, string>, between: () => void = () => undefined) {
    const drain = await redrive({ sqs, lambda: fakeDurableLambda().client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(drain.outcomes.map((o) => o.kind)).toEqual(['redriven']);
    await sendAll(sqs, queueUrl, [schedulerDeadLetter(tick, { code: 'Lambda.TooManyRequestsException', message: 'Rate exceeded', retries: 185, targetArn: `${FUNCTION_ARN}:live` })]);
    let runs = 0;
    const lambda = fakeDurableLambda({ aliases, plan: () => (runs++ === 0 ? failsAfter(0) : succeedsAfter(0)) });
    const first = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(first.outcomes.map((o) => o.kind)).toEqual(['still_failing']);
    between();
    const second = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(second.outcomes.map((o) => o.kind)).toEqual(['redriven']);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
    return { messageId: messageIdOf(first.outcomes[0]!), executions: lambda.executions.map((e) => [e.name, e.version]) };
  }

  it('redriven again after its execution through an alias failed, the message gets a fresh execution under its next name', async () => {
    // The stack's schedules invoke the `live` alias: the execution belongs to the alias's version, not $LATEST.
    const { messageId, executions } = await redriveThroughAliasTwice({ live: '7' });
    expect(executions).toEqual([
      [executionName(messageId, '7', 0), '7'],
      [executionName(messageId, '7', 1), '7'],
    ]);
  });

  it('redriven again after a deploy moved the alias, a message whose execution failed gets a fresh execution on the new version', async () => {
    const aliases: Record<string, string> = { live: '7' };
    // A deploy: executions of version 7 are no longer listed under `live`, but their names stay taken.
    const { messageId, executions } = await redriveThroughAliasTwice(aliases, () => (aliases.live = '8'));
    expect(executions).toEqual([
      [executionName(messageId, '7', 0), '7'],
      [executionName(messageId, '8', 0), '8'],
    ]);
  });

  it('reports the execution still running, and keeps the message, when its visibility can no longer be extended', async () => {
    const clock = new ManualClock();
    let refusals = 0;
    // SQS refuses visibility past 12 hours from a message's receipt; any refusal is treated alike.
    const refusingSqs = {
      send: (command: { input: unknown }) => {
        if (command instanceof ChangeMessageVisibilityCommand && command.input.VisibilityTimeout! > 0) {
          refusals++;
          return Promise.reject(new Error('Value 960 for parameter VisibilityTimeout is invalid. Reason: Total VisibilityTimeout for the message is beyond the limit [43200 seconds]'));
        }
        return sqs.send(command as never);
      },
    } as unknown as SQSClient;
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(1_000) });
    const { outcomes } = await redrive({ sqs: refusingSqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock, visibilityTimeoutSeconds: 20 });
    expect(refusals).toBe(1);
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'running' })]);
    expect(lambda.executions).toHaveLength(1);
    expect(await counts()).toEqual({ visible: 1, hidden: 0 });
  });

  it('extends the message’s visibility before it lapses while an execution runs for over an hour', async () => {
    const clock = new ManualClock();
    const visibilityTimeoutSeconds = 20; // shorter than the longest wait between two reads
    const extensions: { at: number; seconds: number }[] = [];
    const recordingSqs = {
      send: (command: { input: unknown }) => {
        if (command instanceof ChangeMessageVisibilityCommand) extensions.push({ at: clock.now(), seconds: command.input.VisibilityTimeout! });
        return sqs.send(command as never);
      },
    } as unknown as SQSClient;
    // 400 reads at most 30 s apart, and sooner when an extension is due: over an hour on the injected clock.
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(400) });
    const start = clock.now();
    const { outcomes } = await redrive({ sqs: recordingSqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock, visibilityTimeoutSeconds });
    expect(outcomes.map((o) => o.kind)).toEqual(['redriven']);
    const end = clock.now();
    expect(end - start).toBeGreaterThan(3_600_000);
    expect(extensions.length).toBeGreaterThan(300);
    // Each extension (moto accepted every one) comes before the visibility set by the previous one lapses.
    let hiddenUntil = start + visibilityTimeoutSeconds * 1000;
    for (const extension of extensions) {
      expect(extension.at).toBeLessThan(hiddenUntil);
      expect(extension.seconds).toBe(visibilityTimeoutSeconds);
      hiddenUntil = extension.at + extension.seconds * 1000;
    }
    expect(end).toBeLessThan(hiddenUntil);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
  });

  it('invokes a function that is not durable synchronously, as before', async () => {
    const lambda = fakeDurableLambda({ durable: false, syncResult: () => committed });
    const { outcomes } = await redrive({ sqs, lambda: lambda.client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(outcomes.map((o) => o.kind)).toEqual(['redriven']);
    expect(lambda.callsOf('InvokeCommand')).toEqual([expect.objectContaining({ InvocationType: 'RequestResponse' })]);
    expect(lambda.callsOf('InvokeCommand')[0]).not.toHaveProperty('DurableExecutionName');
    expect(lambda.callsOf('ListDurableExecutionsByFunctionCommand')).toEqual([]);
    expect(await counts()).toEqual({ visible: 0, hidden: 0 });
  });

  it('keeps the message when a durable function’s Invoke answers without an execution, and invokes nothing else', async () => {
    const lambda = fakeDurableLambda({ plan: () => succeedsAfter(0) });
    const client = {
      send: (c: InstanceType<typeof import('@aws-sdk/client-lambda').InvokeCommand>) => (c.constructor.name === 'InvokeCommand' ? Promise.resolve({ StatusCode: 202 }) : lambda.client.send(c)),
    } as unknown as typeof lambda.client;
    const { outcomes } = await redrive({ sqs, lambda: client, queueUrl, max: 10, dryRun: false, clock: new ManualClock() });
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'still_failing', error: expect.stringContaining('no DurableExecutionArn') as string })]);
    expect(await counts()).toEqual({ visible: 1, hidden: 0 });
  });
});
