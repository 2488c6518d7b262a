import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apilake } from '../support/cli.js';
import { FUNCTION_ARN, lambdaRecord, schedulerDeadLetter, sendAll } from '../support/deadLetters.js';
import { startFakeLambda, type FakeLambda } from '../support/fakeLambda.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';

// The CLI as an on-call engineer runs it: SQS on moto, Lambda Invoke on a local fake of its REST API.
let moto: MotoServer;
let lambda: FakeLambda;
let sqs: SQSClient;
let cwd: string;
let env: Record<string, string>;
let failedUrl: string;
let undeliveredUrl: string;

beforeAll(async () => {
  [moto, lambda] = await Promise.all([startMoto(), startFakeLambda()]);
  sqs = new SQSClient({ ...MOTO_AWS, endpoint: moto.endpoint });
  env = { ...moto.env, AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint };
});
afterAll(async () => {
  sqs.destroy();
  await Promise.all([moto.stop(), lambda.close()]);
});

beforeEach(async () => {
  const suffix = Math.random().toString(36).slice(2, 8);
  failedUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `failed-${suffix}` }))).QueueUrl!;
  undeliveredUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `undelivered-${suffix}` }))).QueueUrl!;
  await sendAll(sqs, failedUrl, [
    lambdaRecord({ source: 'shop', scheduledTime: '2024-01-01T10:00:00Z' }, { condition: 'RetriesExhausted', errorType: 'WindowsFailedError', errorMessage: '1 window(s) failed: orders: HTTP 503' }),
    lambdaRecord({ source: 'shop', scheduledTime: '2024-01-01T11:00:00Z' }, { condition: 'EventAgeExceeded' }),
  ]);
  await sendAll(sqs, undeliveredUrl, [
    schedulerDeadLetter(
      { source: 'shop', scheduledTime: '2024-01-01T12:00:00Z' },
      { code: 'AWS.Scheduler.InternalServerError', message: 'Unexpected error occurred while processing the request.', exhausted: 'MaximumRetryAttempts', retries: 4 },
    ),
  ]);
  cwd = await mkdtemp(join(tmpdir(), 'apilake-redrive-'));
  await writeFile(
    join(cwd, 'cdk-outputs.json'),
    JSON.stringify({ 'apilake-prod': { FailedInvocationsQueueUrl: failedUrl, UndeliveredTicksQueueUrl: undeliveredUrl, FunctionNameShop: 'apilake-prod-shop' } }),
  );
  lambda.invocations.length = 0;
  lambda.respond(() => ({ result: { source: 'shop', trigger: 'scheduled', streams: [{ stream: 'orders', status: 'committed' }] } }));
});

const visible = async (queueUrl: string) => {
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(Attributes!.ApproximateNumberOfMessages), hidden: Number(Attributes!.ApproximateNumberOfMessagesNotVisible) };
};

describe('apilake redrive', () => {
  it('--dry-run lists both queues with the reason of every message, then redrive re-runs them all', async () => {
    const dry = await apilake(['redrive', '--dry-run'], { cwd, env });
    expect(dry.code).toBe(0);
    expect(dry.stderr).toBe(''); // no SDK Node-version warning either
    expect(dry.stdout).toContain(`listing failed invocations: ${failedUrl}`);
    expect(dry.stdout).toContain(`listing undelivered schedule ticks: ${undeliveredUrl}`);
    expect(dry.stdout).toMatch(/scheduled 2024-01-01T10:00:00Z │ listed \(dry run\) │ WindowsFailedError: 1 window\(s\) failed: orders: HTTP 503 \(RetriesExhausted after 3 attempts\)/);
    expect(dry.stdout).toMatch(/scheduled 2024-01-01T11:00:00Z │ listed \(dry run\) │ the event expired in Lambda's queue .* \(EventAgeExceeded after 0 attempts\)/);
    expect(dry.stdout).toMatch(
      /scheduled 2024-01-01T12:00:00Z │ listed \(dry run\) │ AWS\.Scheduler\.InternalServerError: Unexpected error occurred while processing the request\. \(MaximumRetryAttempts after 4 retries\)/,
    );
    expect(dry.stdout).not.toContain('unknown error');
    expect(lambda.invocations).toEqual([]);
    expect(await visible(failedUrl)).toEqual({ visible: 2, hidden: 0 });

    // The sequence docs/cli.md and both alarms give: the real run right after the dry run.
    const real = await apilake(['redrive'], { cwd, env });
    expect(real.code).toBe(0);
    expect(real.stdout).toContain('2 redriven and deleted, 0 still failing (kept), 0 unparseable (kept)');
    expect(real.stdout).toContain('1 redriven and deleted, 0 still failing (kept), 0 unparseable (kept)');
    expect(lambda.invocations.map((i) => [i.functionName, i.invocationType, i.event])).toEqual(
      expect.arrayContaining([
        [`${FUNCTION_ARN}:$LATEST`, 'RequestResponse', { source: 'shop', scheduledTime: '2024-01-01T10:00:00Z' }],
        [`${FUNCTION_ARN}:$LATEST`, 'RequestResponse', { source: 'shop', scheduledTime: '2024-01-01T11:00:00Z' }],
        [FUNCTION_ARN, 'RequestResponse', { source: 'shop', scheduledTime: '2024-01-01T12:00:00Z' }],
      ]),
    );
    expect(await visible(failedUrl)).toEqual({ visible: 0, hidden: 0 });
    expect(await visible(undeliveredUrl)).toEqual({ visible: 0, hidden: 0 });
  }, 60_000);

  it('--queue undelivered reads only that queue; a tick that fails again is kept, visible, and exits 1', async () => {
    lambda.respond(() => ({ error: { errorType: 'WindowsFailedError', errorMessage: '1 window(s) failed: orders: HTTP 503' } }));
    const { code, stdout } = await apilake(['redrive', '--queue', 'undelivered'], { cwd, env });
    expect(code).toBe(1);
    expect(stdout).not.toContain('failed invocations');
    expect(stdout).toMatch(/still failing, kept │ again: WindowsFailedError: 1 window\(s\) failed: orders: HTTP 503; first: AWS\.Scheduler\.InternalServerError/);
    expect(await visible(undeliveredUrl)).toEqual({ visible: 1, hidden: 0 });
    expect(await visible(failedUrl)).toEqual({ visible: 2, hidden: 0 });
  }, 60_000);

  it('rejects a --queue that is neither a queue name nor a URL before calling AWS, exit 2', async () => {
    const { code, stderr } = await apilake(['redrive', '--queue', 'failures'], { cwd, env });
    expect(code).toBe(2);
    expect(stderr).toContain('--queue must be failed, undelivered or a queue URL (https://…), got "failures"');
  });
});
