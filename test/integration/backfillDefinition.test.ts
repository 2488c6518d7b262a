import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backfillDefinition, WINDOW_FAILED_ERROR } from '../../infra/backfillDefinition.js';
import { backfillItemsKey, backfillResultsPrefix } from '../../infra/backfillLayout.js';

// The deployed definition, run by moto's Step Functions interpreter (test/support/runStateMachine.py).
// It cannot invoke a Lambda function (that needs Docker), so each window's task sends its payload,
// task token included, to an SQS queue instead, with the same callback pattern; the script plays
// the function: it reads the token from the payload and answers with SendTaskSuccess or
// SendTaskFailure. Everything around the task (the window list read from the bucket, the payload,
// the wait for the token, retries, timeouts, the result files) runs as deployed.
const SCRIPT = fileURLToPath(new URL('../support/runStateMachine.py', import.meta.url));

interface Run {
  status: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  objects: Record<string, string>;
  /** Every payload a window's task sent to the function, in order. */
  invocations: Record<string, unknown>[];
  /** Answers of the script that Step Functions refused (a closed token, say). */
  refused: string[];
  mapRuns: { itemCounts: { succeeded: number; failed: number; total: number } }[];
}

type Reply = 'success' | 'failure' | 'silent';

function runDefinition(definition: Record<string, unknown>, objects: Record<string, string>, input: unknown, replies: Record<string, Reply[]> = {}): Promise<Run> {
  // moto's grammar reads a percentage only as a decimal number; AWS takes 100 and 100.0 alike.
  const text = JSON.stringify(definition).replace('"ToleratedFailurePercentage":100', '"ToleratedFailurePercentage":100.0');
  return new Promise((resolve, reject) => {
    const child = execFile('python3', [SCRIPT], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Run);
    });
    child.stdin!.end(JSON.stringify({ definition: text, bucket: 'lake', objects, input: JSON.stringify(input), replies }));
  });
}

type WindowTask = Record<string, unknown> & { Parameters: Record<string, unknown>; Retry: { ErrorEquals: string[]; IntervalSeconds: number }[] };

/**
 * The definition with the window's asynchronous Lambda invocation replaced by a message to the
 * queue the script answers from, with the same payload, timeout, retries and result selector.
 * Retries of a failed window come after a second instead of a minute, and the window timeout is
 * `timeoutSeconds`. Without `resultFiles`, the map's output is each window's result in list order
 * (moto's result writer writes the manifest but no result files).
 */
function withCallbacksToQueue(definition: Record<string, unknown>, timeoutSeconds: number, resultFiles: boolean): Record<string, unknown> {
  const copy = structuredClone(definition) as { States: { Windows: { ResultWriter?: unknown; ItemProcessor: { States: { Window: WindowTask } } } } };
  if (!resultFiles) delete copy.States.Windows.ResultWriter;
  const task = copy.States.Windows.ItemProcessor.States.Window;
  expect(task.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
  expect(task.Parameters.InvocationType).toBe('Event');
  task.Resource = 'arn:aws:states:::sqs:sendMessage.waitForTaskToken';
  task.Parameters = { QueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/windows', MessageBody: task.Parameters.Payload };
  task.TimeoutSeconds = timeoutSeconds;
  for (const retrier of task.Retry) if (retrier.ErrorEquals.includes(WINDOW_FAILED_ERROR)) retrier.IntervalSeconds = 1;
  return copy;
}

const ITEMS = backfillItemsKey('shop', 'shop-0123456789ab-20240101T000000Z');
const events = Array.from({ length: 4 }, (_, h) => ({ source: 'shop', stream: 'orders', window: { start: `2024-01-01T0${h}:00:00Z`, end: `2024-01-01T0${h + 1}:00:00Z` }, force: false }));

function run(items: unknown[], options: { replies?: Record<string, Reply[]>; timeoutSeconds?: number; resultFiles?: boolean } = {}): Promise<Run> {
  const definition = backfillDefinition({
    source: 'shop',
    targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live',
    bucketName: 'lake',
    maxConcurrency: 2,
    resultsPrefix: backfillResultsPrefix('shop'),
    windowTimeoutSeconds: 6 * 3600 + 300,
  });
  return runDefinition(
    withCallbacksToQueue(definition, options.timeoutSeconds ?? 30, options.resultFiles ?? false),
    { [ITEMS]: JSON.stringify(items) },
    { items: ITEMS, bucket: 'lake', source: 'shop', from: '', to: '', windows: items.length, committed: 0, force: false },
    options.replies ?? {},
  );
}

/** The summary the function reports for a window that landed (what the script sends). */
function landed(event: (typeof events)[number]) {
  return { streams: [{ stream: event.stream, window: event.window, status: 'committed' }] };
}

describe('the backfill definition, run by a Step Functions interpreter', () => {
  it("hands every window of the list to the function as its backfill event with a task token, once, and writes the map's result manifest", async () => {
    const items = [...events.slice(0, 3), { ...events[3]!, force: true }];
    const result = await run(items, { resultFiles: true });
    expect(result.error, result.cause ?? '').toBeNull();
    expect(result.status).toBe('SUCCEEDED');
    const sent = result.invocations.map(({ taskToken, ...event }) => [event, typeof taskToken === 'string' && taskToken.length > 0]);
    expect(sent.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(items.map((event) => [event, true]));
    expect(new Set(result.invocations.map((e) => e.taskToken)).size).toBe(items.length);
    const output = JSON.parse(result.output!) as { ResultWriterDetails: { Key: string } };
    expect(output.ResultWriterDetails.Key).toMatch(/^backfills\/source=shop\/results\/[0-9a-f-]+\/manifest\.json$/);
    expect(Object.keys(result.objects)).toContain(output.ResultWriterDetails.Key);
    expect(result.mapRuns[0]!.itemCounts).toMatchObject({ succeeded: 4, failed: 0, total: 4 });
  }, 150_000);

  it("passes on each window's summary as the function reports it", async () => {
    const result = await run(events);
    expect(result.status).toBe('SUCCEEDED');
    expect(result.refused).toEqual([]);
    expect(JSON.parse(result.output!)).toEqual(events.map(landed));
  }, 150_000);

  it('tries a window the function reports failed once more, and records a second failure as a failed window while the others land', async () => {
    // moto's interpreter gives a retried callback task its first try's token, and the first answer
    // stays the task's outcome, so a failure answered with a success on the second try cannot be
    // run here; Step Functions gives each try its own token.
    const twice = `orders ${events[1]!.window.start}`;
    const result = await run(events, { replies: { [twice]: ['failure', 'failure'] } });
    expect(result.status).toBe('SUCCEEDED');
    const tries = (name: string) => result.invocations.filter((e) => `${String(e.stream)} ${(e.window as { start: string }).start}` === name).length;
    expect([tries(twice), result.invocations.length]).toEqual([2, events.length + 1]);
    expect(JSON.parse(result.output!)).toEqual([landed(events[0]!), null, landed(events[2]!), landed(events[3]!)]);
    expect(result.mapRuns[0]!.itemCounts).toMatchObject({ succeeded: 3, failed: 1 });
  }, 150_000);

  it('fails a window whose function never answers when its timeout passes, without trying it again', async () => {
    const silent = `orders ${events[0]!.window.start}`;
    const result = await run(events.slice(0, 2), { replies: { [silent]: ['silent'] }, timeoutSeconds: 2 });
    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output!)).toEqual([null, landed(events[1]!)]);
    expect(result.invocations).toHaveLength(2);
    expect(result.mapRuns[0]!.itemCounts).toMatchObject({ succeeded: 1, failed: 1 });
  }, 150_000);
});
