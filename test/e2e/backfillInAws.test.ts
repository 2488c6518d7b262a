import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { executionArn } from '../../cli/backfill/backfillId.js';
import { parseWindowList } from '../../cli/backfill/windowList.js';
import type { BackfillInput } from '../../infra/backfillLayout.js';
import { deployBackfill, landWindow, type BackfillDeployment } from '../support/backfillInAws.js';
import { apilake } from '../support/cli.js';
import { startMoto, type MotoServer } from '../support/motoServer.js';

// The CLI as a user runs it against a deployment on loopback: moto's S3 and Step Functions, the
// proxy ending executions when the test says (moto never ends one).
let moto: MotoServer;
let deployment: BackfillDeployment;
let cwd: string;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(() => moto.stop());
beforeEach(async () => {
  deployment = await deployBackfill(moto, 'shop');
  cwd = await mkdtemp(join(tmpdir(), 'apilake-sfn-'));
  await mkdir(join(cwd, 'sources'));
  await writeFile(
    join(cwd, 'sources', 'shop.yaml'),
    [
      'name: shop',
      'schedule: rate(1 hour)',
      'base_url: https://api.shop.test',
      'rate_limit: { requests_per_second: 5, expected_workers: 3 }',
      'streams:',
      '  - { name: orders, path: /orders, window: 1h }',
      '  - { name: customers, path: /customers, window: 1d }',
      '',
    ].join('\n'),
  );
  await writeFile(join(cwd, 'cdk-outputs.json'), JSON.stringify({ 'apilake-test': { LakeBucketName: deployment.bucket, BackfillStateMachineShop: deployment.stateMachineArn } }));
});
afterEach(() => deployment.close());

const run = (args: string[]) => apilake(['backfill', ...args], { cwd, env: deployment.env });
const RANGE = ['--from', '2024-01-01T00:00:00Z', '--to', '2024-01-01T06:00:00Z'];

async function windowsOf(arn: string) {
  const { DescribeExecutionCommand } = await import('@aws-sdk/client-sfn');
  const input = JSON.parse((await deployment.sfn.send(new DescribeExecutionCommand({ executionArn: arn }))).input!) as BackfillInput;
  return parseWindowList((await deployment.storage.read(input.items))!.toString('utf8'))!;
}

describe('apilake backfill --remote', () => {
  it('starts one execution in AWS and prints its id at once, while the backfill runs on', async () => {
    const { code, stdout, stderr } = await run(['shop', ...RANGE, '--remote']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [started] = deployment.proxy.started;
    expect(deployment.proxy.started).toHaveLength(1);
    expect(stdout).toContain("apilake backfill shop in AWS: 7 windows, up to 2 at once (the source's rate_limit)");
    expect(stdout).toContain(`started ${started!.executionArn}\n`);
    expect(stdout).toContain(`apilake backfill --status ${started!.executionArn} [--follow]`);
    expect(stdout).toContain(`apilake backfill --cancel ${started!.executionArn}`);
  });

  it('shows the status of a running backfill, then of a cancelled one', async () => {
    await run(['shop', ...RANGE, '--remote']);
    const arn = deployment.proxy.started[0]!.executionArn;
    const events = await windowsOf(arn);
    await landWindow(deployment.storage, events[0]!, 42);

    const running = await run(['--status', arn]);
    expect(running.code).toBe(0);
    expect(running.stdout).toMatch(/^shop-[0-9a-f]{12}-\d{8}T\d{9}Z: RUNNING since .* · shop, every stream, 2024-01-01T00:00:00Z → 2024-01-02T00:00:00Z · 7 windows$/m);
    expect(running.stdout).toContain('1/7 windows · 1 committed · 0 skipped · 0 failed · 42 records');

    const name = arn.slice(arn.lastIndexOf(':') + 1);
    const cancelled = await run(['--cancel', name]);
    expect(cancelled.code).toBe(0);
    expect(cancelled.stdout).toContain(`cancelled ${name}: no new window starts`);

    const after = await run(['--status', arn]);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain(`${name} ended ABORTED`);
    expect(after.stdout).toContain('6 windows not started');
    const again = await run(['--cancel', arn]);
    expect(again).toMatchObject({ code: 0, stdout: `${name} already ended (ABORTED): nothing to cancel\n` });
  });

  it('follows the backfill to its end, and a second run of the range skips every committed window', async () => {
    deployment.proxy.onStart(async ({ input }) => {
      const { items } = JSON.parse(input) as BackfillInput;
      for (const event of parseWindowList((await deployment.storage.read(items))!.toString('utf8'))!) await landWindow(deployment.storage, event, 5);
      return { status: 'SUCCEEDED' };
    });
    const followed = await run(['shop', ...RANGE, '--remote', '--follow']);
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/ended SUCCEEDED\n/);
    expect(followed.stdout).toContain(`shop: 7 committed, 0 skipped, 0 failed · 35 records landed`);
    expect(followed.stdout).toContain(`→ s3://${deployment.bucket}`);

    const rerun = await run(['shop', ...RANGE, '--remote']);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toContain('0 windows, 7 already committed and left out');
    expect(rerun.stdout).toContain('every window of the range is committed: nothing to start');
    expect(deployment.proxy.started).toHaveLength(1);

    // A range that has not ended holds no window yet: nothing is committed, nothing is started.
    const ahead = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const future = await run(['shop', '--from', ahead, '--to', `${ahead}T06:00:00Z`, '--remote']);
    expect(future.code).toBe(0);
    expect(future.stdout).toContain('in AWS: 0 windows, up to 2 at once');
    expect(future.stdout).toContain('no window of the range has ended yet: nothing to start');
    expect(deployment.proxy.started).toHaveLength(1);
  });

  it('exits 1 after following a backfill that ended with a window not committed, and a re-run lists only that window', async () => {
    deployment.proxy.onStart(async ({ input }) => {
      const { items } = JSON.parse(input) as BackfillInput;
      const events = parseWindowList((await deployment.storage.read(items))!.toString('utf8'))!;
      for (const event of events.slice(1)) await landWindow(deployment.storage, event);
      return { status: 'SUCCEEDED' };
    });
    const followed = await run(['shop', ...RANGE, '--remote', '--follow']);
    expect(followed.code).toBe(1);
    expect(followed.stdout).toContain('shop: 6 committed, 0 skipped, 1 failed');
    expect(followed.stdout).toMatch(/✗ orders \[2024-01-01T00:00:00Z, 2024-01-01T01:00:00Z\) \(1h\): the function did not commit this window/);

    deployment.proxy.onStart(() => undefined);
    const rerun = await run(['shop', ...RANGE, '--remote']);
    expect(rerun.stdout).toContain('1 window, 6 already committed and left out');
    expect(await windowsOf(deployment.proxy.started[1]!.executionArn)).toEqual([
      { source: 'shop', stream: 'orders', window: { start: '2024-01-01T00:00:00Z', end: '2024-01-01T01:00:00Z' }, force: false },
    ]);
  });

  it.each([
    [['--status', 'nonsense'], /"nonsense" is not a backfill id: expected the execution ARN/],
    [['--cancel', 'shop-0123456789ab-20240101T000000Z'], /no backfill arn:aws:states:.*:shop-0123456789ab-20240101T000000Z: Step Functions answered ExecutionDoesNotExist/],
    [['--status', 'arn:aws:states:us-east-1:123456789012:execution:apilake-test-shop-backfill:shop-0123456789ab-20240101T000000Z'], /no backfill arn:aws:states:.*: Step Functions answered/],
    [['--status', 'x', '--cancel', 'y'], /--status and --cancel go one at a time/],
    [['shop', '--status', 'x'], /--status <id> takes no source/],
    [['shop', ...RANGE, '--remote', '--concurrency', '4'], /--concurrency is for local backfills: in AWS, windows in flight follow the source's rate_limit \(2 at once for shop/],
    [['shop', ...RANGE, '--follow'], /--follow goes with --remote/],
    [['shop', '--remote'], /missing --from/],
  ])('fails with exit 2 for %j', async (args, message) => {
    const { code, stderr } = await run(args);
    expect(stderr).toMatch(message);
    expect(code).toBe(2);
  });

  it('names the execution of a bad id by the state machine of the source in its name', () => {
    expect(executionArn(deployment.stateMachineArn, 'shop-x')).toBe(deployment.stateMachineArn.replace(':stateMachine:', ':execution:') + ':shop-x');
  });
});
