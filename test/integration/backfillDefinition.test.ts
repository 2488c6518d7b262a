import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { backfillDefinition } from '../../infra/backfillDefinition.js';
import { backfillItemsKey, backfillResultsPrefix } from '../../infra/backfillLayout.js';

// The deployed definition, run by moto's Step Functions interpreter (test/support/runStateMachine.py).
// It cannot invoke a Lambda function (that needs Docker), so each window's task puts its event into
// S3 instead; everything around the task (the window list read from the bucket, the map, the
// result files) runs as deployed.
const SCRIPT = fileURLToPath(new URL('../support/runStateMachine.py', import.meta.url));

interface Run {
  status: string;
  output: string | null;
  error: string | null;
  cause: string | null;
  objects: Record<string, string>;
}

function runDefinition(definition: Record<string, unknown>, objects: Record<string, string>, input: unknown): Promise<Run> {
  // moto's grammar reads a percentage only as a decimal number; AWS takes 100 and 100.0 alike.
  const text = JSON.stringify(definition).replace('"ToleratedFailurePercentage":100', '"ToleratedFailurePercentage":100.0');
  return new Promise((resolve, reject) => {
    const child = execFile('python3', [SCRIPT], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Run);
    });
    child.stdin!.end(JSON.stringify({ definition: text, bucket: 'lake', objects, input: JSON.stringify(input) }));
  });
}

/** The definition with the window's Lambda invocation replaced by a put of its event into S3. */
function withEventsToS3(definition: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(definition) as { States: { Windows: { ItemProcessor: { States: { Window: Record<string, unknown> } } } } };
  const task = copy.States.Windows.ItemProcessor.States.Window;
  task.Resource = 'arn:aws:states:::aws-sdk:s3:putObject';
  task.Parameters = { Bucket: 'lake', 'Key.$': "States.Format('invoked/{}/{}.json', $.stream, $.window.start)", 'Body.$': 'States.JsonToString($)' };
  task.ResultSelector = { 'etag.$': '$.ETag' };
  return copy;
}

describe('the backfill definition, run by a Step Functions interpreter', () => {
  it('hands every window of the list in the lake bucket to its task as the backfill event, once, and writes the map results', async () => {
    const events = Array.from({ length: 5 }, (_, h) => ({ source: 'shop', stream: 'orders', window: { start: `2024-01-01T0${h}:00:00Z`, end: `2024-01-01T0${h + 1}:00:00Z` } }));
    const items = backfillItemsKey('shop', 'shop-0123456789ab-20240101T000000Z');
    const definition = backfillDefinition({
      source: 'shop',
      targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:f',
      bucketName: 'lake',
      maxConcurrency: 2,
      resultsPrefix: backfillResultsPrefix('shop'),
    });
    const run = await runDefinition(
      withEventsToS3(definition),
      { [items]: JSON.stringify(events) },
      { items, bucket: 'lake', source: 'shop', from: '', to: '', windows: 5, committed: 0, force: false },
    );
    expect(run.error, run.cause ?? '').toBeNull();
    expect(run.status).toBe('SUCCEEDED');
    const invoked = Object.entries(run.objects).filter(([key]) => key.startsWith('invoked/'));
    expect(invoked.map(([key, body]) => [key, JSON.parse(body) as unknown])).toEqual(events.map((event) => [`invoked/orders/${event.window.start}.json`, event]));
    const output = JSON.parse(run.output!) as { ResultWriterDetails: { Bucket: string; Key: string } };
    expect(output.ResultWriterDetails.Key).toMatch(/^backfills\/source=shop\/results\/[0-9a-f-]+\/manifest\.json$/);
    expect(Object.keys(run.objects)).toContain(output.ResultWriterDetails.Key);
  }, 150_000);
});
