import { S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, ListExecutionsCommand, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { backfillName, backfillRangeKey, executionArn } from '../../cli/backfill/backfillId.js';
import { claimStart, startClaimKey } from '../../cli/backfill/startClaims.js';
import { describeBackfill, followBackfill } from '../../cli/backfill/followBackfill.js';
import { startRemoteBackfill } from '../../cli/backfill/startRemoteBackfill.js';
import { parseWindowList, type BackfillEvent } from '../../cli/backfill/windowList.js';
import { parseSource } from '../../functions/config/loadSources.js';
import { InputError } from '../../functions/errors.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import type { BackfillInput } from '../../infra/backfillLayout.js';
import { deployBackfill, landWindow, type BackfillDeployment } from '../support/backfillInAws.js';
import { ManualClock } from '../support/manualClock.js';
import { MOTO_AWS, startMoto, type MotoServer } from '../support/motoServer.js';
import { startS3FaultProxy } from '../support/s3FaultProxy.js';

// Step Functions and S3 on moto; the proxy ends executions when a test says so (moto never does).
let moto: MotoServer;
let deployment: BackfillDeployment;

beforeAll(async () => {
  moto = await startMoto();
});
afterAll(() => moto.stop());
beforeEach(async () => {
  deployment = await deployBackfill(moto, 'shop');
});
afterEach(() => deployment.close());

const SOURCE = parseSource(
  JSON.stringify({
    name: 'shop',
    schedule: 'rate(1 hour)',
    base_url: 'https://api.shop.test',
    streams: [
      { name: 'orders', path: '/orders', window: '1h' },
      { name: 'customers', path: '/customers', window: '1d' },
    ],
  }),
  'shop.yaml',
);
const RANGE = { kind: 'range', from: new Date('2024-01-01T00:00:00Z'), to: new Date('2024-01-01T06:00:00Z') } as const;

const start = (overrides: Partial<Parameters<typeof startRemoteBackfill>[0]> = {}) =>
  startRemoteBackfill({
    source: SOURCE,
    selection: RANGE,
    force: false,
    stateMachineArn: deployment.stateMachineArn,
    storage: deployment.storage,
    bucket: deployment.bucket,
    sfn: deployment.sfn,
    ...overrides,
  });

async function windowList(arn: string): Promise<BackfillEvent[]> {
  const described = await deployment.sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
  const input = JSON.parse(described.input!) as BackfillInput;
  return parseWindowList((await deployment.storage.read(input.items))!.toString('utf8'))!;
}

describe('starting a backfill in AWS', () => {
  it('writes the window list to the lake bucket and starts one execution over it, without waiting for a window', async () => {
    const started = await start();
    expect(started.outcome).toBe('started');
    expect(started.executionArn).toMatch(/^arn:aws:states:us-east-1:\d{12}:execution:apilake-test-shop-backfill-\w+:shop-[0-9a-f]{12}-\d{8}T\d{9}Z$/);
    expect(started.input).toMatchObject({ source: 'shop', bucket: deployment.bucket, from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', windows: 7, committed: 0, force: false });
    const events = await windowList(started.executionArn!);
    expect(events).toHaveLength(7); // six hourly orders windows and the day of customers
    // Every field present, force too: the state machine passes each on to the function by name.
    expect(events).toContainEqual({ source: 'shop', stream: 'orders', window: { start: '2024-01-01T05:00:00Z', end: '2024-01-01T06:00:00Z' }, force: false });
    expect(events).toContainEqual({ source: 'shop', stream: 'customers', window: { start: '2024-01-01T00:00:00Z', end: '2024-01-02T00:00:00Z' }, force: false });
    const described = await deployment.sfn.send(new DescribeExecutionCommand({ executionArn: started.executionArn }));
    expect(described.status).toBe('RUNNING');
  });

  it('finds the execution already running for the same range instead of starting a second', async () => {
    const first = await start({ now: new Date('2026-01-01T00:00:00Z') });
    const second = await start({ now: new Date('2026-01-01T00:05:00Z') });
    expect(second).toMatchObject({ outcome: 'running', executionArn: first.executionArn });
    expect(deployment.proxy.started).toHaveLength(1);
    // Another range is another backfill.
    const other = await start({ stream: 'orders', now: new Date('2026-01-01T00:05:00Z') });
    expect(other.outcome).toBe('started');
  });

  it('returns the same execution when two commands start the same range in the same second', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const [a, b] = await Promise.all([start({ now }), start({ now })]);
    expect(a.executionArn).toBe(b.executionArn);
    const listed = await deployment.sfn.send(new ListExecutionsCommand({ stateMachineArn: deployment.stateMachineArn }));
    expect(listed.executions).toHaveLength(1);
  });

  it('starts one execution when four commands start the same range at once, each at its own moment', async () => {
    const at = (ms: number) => new Date(Date.parse('2026-01-01T00:00:00Z') + ms);
    const results = await Promise.all([0, 7, 13, 29].map((ms) => start({ now: at(ms) })));
    expect(deployment.proxy.started).toHaveLength(1);
    expect(new Set(results.map((r) => r.executionArn))).toEqual(new Set([deployment.proxy.started[0]!.executionArn]));
    expect(results.map((r) => r.outcome).sort()).toEqual(['running', 'running', 'running', 'started']);
    // Only the started execution's window list stays: the others' lists are never read.
    const started = results.find((r) => r.outcome === 'started')!;
    expect((await deployment.storage.list('backfills/source=shop/items/')).map((o) => o.key)).toEqual([started.input.items]);
    // Once it ended, the next start of the range is a new execution.
    deployment.proxy.end(results[0]!.executionArn!, { status: 'SUCCEEDED' });
    const next = await start({ now: at(60_000) });
    expect(next.outcome).toBe('started');
    expect(deployment.proxy.started).toHaveLength(2);
  });

  it("waits for the execution of another command's fresh claim, and passes over a claim whose command died before starting it", async () => {
    const range = { source: 'shop', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', force: false };
    const claim = (n: number, name: string) => deployment.storage.putIfAbsent(startClaimKey('shop', backfillRangeKey(range), n), JSON.stringify({ name }));
    // Claim 0: a command that died between its claim and its execution, over a minute ago.
    await claim(0, backfillName(range, new Date(Date.now() - 61_000)));
    // Claim 1: a command starting its execution right now; it appears while this one waits.
    const other = backfillName(range, new Date());
    await claim(1, other);
    const waits: number[] = [];
    const attached = await start({
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 2) await deployment.sfn.send(new StartExecutionCommand({ stateMachineArn: deployment.stateMachineArn, name: other, input: '{}' }));
      },
    });
    expect(attached).toMatchObject({ outcome: 'running', executionArn: executionArn(deployment.stateMachineArn, other) });
    expect(waits).toEqual([1_000, 1_000]);
    expect(deployment.proxy.started.map((e) => e.executionArn)).toEqual([executionArn(deployment.stateMachineArn, other)]);
  });

  it('gives a claim a minute from when it was written, though its command named its execution a minute before, waiting on a dead claim', async () => {
    const range = { source: 'shop', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', force: false };
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const claim = (name: string, sleep: (ms: number) => Promise<void>) =>
      claimStart({
        storage: deployment.storage,
        source: 'shop',
        rangeKey: backfillRangeKey(range),
        name,
        sfn: deployment.sfn,
        stateMachineArn: deployment.stateMachineArn,
        now: () => clock.now(),
        sleep,
      });
    // Claim 0: a command that died between its claim and its execution, a second ago.
    await deployment.storage.putIfAbsent(startClaimKey('shop', backfillRangeKey(range), 0), JSON.stringify({ name: backfillName(range, new Date(clock.now() - 1_000)) }));
    const first = backfillName(range, new Date(clock.now()));
    expect(await claim(first, (ms) => clock.sleep(ms))).toEqual({ kind: 'own' });
    expect(clock.now() - Date.parse('2026-01-01T00:00:00Z')).toBe(59_000);
    // The first command is between its claim and StartExecution; its execution appears 10 s later.
    let waited = 0;
    const second = await claim(backfillName(range, new Date(clock.now())), async (ms) => {
      clock.advance(ms);
      waited += ms;
      if (waited === 10_000) await deployment.sfn.send(new StartExecutionCommand({ stateMachineArn: deployment.stateMachineArn, name: first, input: '{}' }));
    });
    expect(second).toEqual({ kind: 'running', executionArn: executionArn(deployment.stateMachineArn, first) });
  });

  it('waits a minute at most on a claim whose command died, though its clock ran ahead', async () => {
    const range = { source: 'shop', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', force: false };
    const clock = new ManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const ahead = new Date(clock.now() + 10 * 60_000);
    await deployment.storage.putIfAbsent(startClaimKey('shop', backfillRangeKey(range), 0), JSON.stringify({ name: backfillName(range, ahead), claimedAt: ahead.toISOString() }));
    const claimed = await claimStart({
      storage: deployment.storage,
      source: 'shop',
      rangeKey: backfillRangeKey(range),
      name: backfillName(range, new Date(clock.now())),
      sfn: deployment.sfn,
      stateMachineArn: deployment.stateMachineArn,
      now: () => clock.now(),
      sleep: (ms) => clock.sleep(ms),
    });
    expect(claimed).toEqual({ kind: 'own' });
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000);
  });

  it('owns its claim when S3 stored it and the answer was lost: the retry finds it taken by its own name, and one execution starts', async () => {
    const proxy = await startS3FaultProxy(moto.endpoint);
    const client = new S3Client({ ...MOTO_AWS, endpoint: proxy.endpoint, forcePathStyle: true });
    try {
      const storage = new S3LakeStorage({ bucket: deployment.bucket, client });
      const isClaim = (key: string, n: number) => key.startsWith('backfills/source=shop/starts/') && key.endsWith(`/${n}.json`);
      proxy.inject({ match: (call) => call.operation === 'PutObject' && isClaim(call.key, 0), fault: { kind: 'drop-after' } });
      const started = await start({ storage, sleep: () => Promise.reject(new Error('nothing here is worth waiting for')) });
      expect(proxy.faultsInjected()).toBe(1);
      const claimPuts = proxy.calls.filter((c) => c.operation === 'PutObject' && c.key.includes('/starts/'));
      // The lost put and the SDK's retry of it, which S3 refused (the key exists): no claim 1.
      expect(claimPuts.map((c) => [isClaim(c.key, 0), c.fault])).toEqual([
        [true, 'drop-after'],
        [true, undefined],
      ]);
      expect(started.outcome).toBe('started');
      expect(deployment.proxy.started.map((e) => e.executionArn)).toEqual([started.executionArn]);
    } finally {
      client.destroy();
      await proxy.close();
    }
  });

  it('passes over claims that name no execution: not JSON, no name, or a name Step Functions would refuse', async () => {
    const range = { source: 'shop', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z', force: false };
    const texts = ['{"name":', '{}', JSON.stringify({ name: 'not a name!' })];
    for (const [n, text] of texts.entries()) await deployment.storage.putIfAbsent(startClaimKey('shop', backfillRangeKey(range), n), text);
    const started = await start({ sleep: () => Promise.reject(new Error('no claim here is worth waiting for')) });
    expect(started.outcome).toBe('started');
    expect(JSON.parse((await deployment.storage.read(startClaimKey('shop', backfillRangeKey(range), 3)))!.toString('utf8'))).toMatchObject({ name: started.executionArn!.split(':').pop() });
  });

  it('fails rather than attach to an ended backfill of the same name', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const first = await start({ now });
    deployment.proxy.end(first.executionArn!, { status: 'SUCCEEDED' });
    await expect(start({ now })).rejects.toThrow(/^a backfill named shop-[0-9a-f]{12}-20260101T000000000Z already ran \(SUCCEEDED\); run the command again to start another$/);
  });

  it('leaves committed windows out of the list, and starts nothing when every window is committed', async () => {
    const first = await start();
    const events = await windowList(first.executionArn!);
    for (const event of events.slice(0, 4)) await landWindow(deployment.storage, event);
    deployment.proxy.end(first.executionArn!, { status: 'SUCCEEDED' });

    const again = await start();
    expect(again.outcome).toBe('started');
    expect(again.input).toMatchObject({ windows: 3, committed: 4 });
    expect(await windowList(again.executionArn!)).toEqual(events.slice(4));
    for (const event of events.slice(4)) await landWindow(deployment.storage, event);
    deployment.proxy.end(again.executionArn!, { status: 'SUCCEEDED' });

    const done = await start();
    expect(done).toMatchObject({ outcome: 'nothing', input: { windows: 0, committed: 7 } });
    expect(deployment.proxy.started).toHaveLength(2);
  });

  it('lists every window again with force, each event forced', async () => {
    const first = await start();
    for (const event of await windowList(first.executionArn!)) await landWindow(deployment.storage, event);
    deployment.proxy.end(first.executionArn!, { status: 'SUCCEEDED' });
    const forced = await start({ force: true });
    expect(forced.input).toMatchObject({ windows: 7, committed: 0, force: true });
    expect((await windowList(forced.executionArn!)).every((e) => e.force === true)).toBe(true);
  });
});

describe('following a backfill in AWS', () => {
  async function follow(arn: string, options: { once?: boolean; between?: (poll: number) => Promise<void>; storage?: LakeStorage } = {}) {
    const results: WindowResult[] = [];
    const statuses: string[] = [];
    const clock = new ManualClock();
    let poll = 0;
    const outcome = await followBackfill({
      sfn: deployment.sfn,
      storage: options.storage ?? deployment.storage,
      executionArn: arn,
      clock: {
        now: () => clock.now(),
        sleep: async (ms, signal) => {
          await clock.sleep(ms, signal);
          await options.between?.(++poll);
        },
      },
      pollMs: 10_000,
      once: options.once,
      onWindowEnd: (r) => results.push(r),
      onPoll: (e) => statuses.push(e.status),
    });
    return { outcome, results, statuses, sleeps: clock.sleeps };
  }

  it('reports each window as its commit appears, and the ones not committed as failed when the execution ends', async () => {
    const { executionArn: arn } = await start();
    const events = await windowList(arn!);
    const { results, statuses, sleeps, outcome } = await follow(arn!, {
      between: async (poll) => {
        // The map lands two windows between two looks; after the third look it ends, one window failed.
        for (const event of events.slice((poll - 1) * 2, poll * 2)) await landWindow(deployment.storage, event, poll);
        if (poll === 3) deployment.proxy.end(arn!, { status: 'SUCCEEDED' });
      },
    });
    expect(statuses).toEqual(['RUNNING', 'RUNNING', 'RUNNING', 'SUCCEEDED']);
    expect(sleeps).toEqual([10_000, 10_000, 10_000]);
    expect(outcome.execution.status).toBe('SUCCEEDED');
    expect(results.map((r) => [r.stream, r.window.start.toISOString(), r.status, r.records])).toEqual([
      ...events.slice(0, 6).map((e, i) => [e.stream, e.window.start.replace('Z', '.000Z'), 'committed', Math.floor(i / 2) + 1]),
      [events[6]!.stream, events[6]!.window.start.replace('Z', '.000Z'), 'failed', 0],
    ]);
    expect(results.at(-1)!.error!.message).toMatch(/the function did not commit this window .*FAILED_\*\.json results under backfills\/source=shop\/results\//);
  });

  it("gives each failed window the reason from the map's FAILED results, as Step Functions writes them", async () => {
    const { executionArn: arn } = await start();
    const events = await windowList(arn!);
    for (const event of events.slice(3)) await landWindow(deployment.storage, event);
    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
    const run = 'backfills/source=shop/results/0b73c56e-fa70-44fa-9a8e-30da95ab697a';
    await deployment.storage.writeBytes(
      `${run}/manifest.json`,
      JSON.stringify({ DestinationBucket: deployment.bucket, ResultFiles: { FAILED: [{ Key: `${run}/FAILED_0.json`, Size: 1 }], PENDING: [], SUCCEEDED: [] } }),
    );
    const failed = (event: BackfillEvent, error: string, cause: string) => ({
      ExecutionArn: `${arn}/Windows:x`,
      Input: JSON.stringify(event),
      Name: 'x',
      Status: 'FAILED',
      Error: error,
      Cause: cause,
    });
    await deployment.storage.writeBytes(
      `${run}/FAILED_0.json`,
      JSON.stringify([
        failed(events[0]!, 'WindowsFailedError', JSON.stringify({ errorType: 'WindowsFailedError', errorMessage: '1 window(s) failed: orders: HTTP 500', trace: [] })),
        failed(events[1]!, 'States.Timeout', 'the task timed out'),
        // The function's own answer to the waiting task (SendTaskFailure): the cause is plain text.
        failed(events[2]!, 'WindowsFailedError', '1 window(s) failed: orders [2024-01-01T02:00:00Z, 2024-01-01T03:00:00Z): HTTP 503'),
      ]),
    );
    deployment.proxy.end(arn!, { status: 'SUCCEEDED', output: JSON.stringify({ MapRunArn: 'arn:x', ResultWriterDetails: { Bucket: deployment.bucket, Key: `${run}/manifest.json` } }) });
    const { results } = await follow(arn!);
    expect(results.filter((r) => r.status === 'failed').map((r) => [r.window.start.toISOString(), r.error!.message])).toEqual([
      ['2024-01-01T00:00:00.000Z', 'WindowsFailedError: 1 window(s) failed: orders: HTTP 500'],
      ['2024-01-01T01:00:00.000Z', 'States.Timeout: the task timed out'],
      ['2024-01-01T02:00:00.000Z', 'WindowsFailedError: 1 window(s) failed: orders [2024-01-01T02:00:00Z, 2024-01-01T03:00:00Z): HTTP 503'],
    ]);
  });

  it('looks once with --status, reporting what is committed so far', async () => {
    const { executionArn: arn } = await start();
    const events = await windowList(arn!);
    await landWindow(deployment.storage, events[2]!);
    const { results, outcome, sleeps } = await follow(arn!, { once: true });
    expect(sleeps).toEqual([]);
    expect(outcome).toMatchObject({ pending: 6, execution: { status: 'RUNNING', input: { windows: 7 } } });
    expect(results.map((r) => r.status)).toEqual(['committed']);
  });

  it('reads the manifests of windows committed since the last look several at once, and reports them in the order of the list', async () => {
    const { executionArn: arn } = await start();
    const events = await windowList(arn!);
    for (const event of events) await landWindow(deployment.storage, event);
    let reading = 0;
    let most = 0;
    const slow = Object.create(deployment.storage) as LakeStorage;
    slow.read = async (key, options) => {
      if (!key.startsWith('manifests/')) return deployment.storage.read(key, options);
      most = Math.max(most, ++reading);
      await new Promise((resolve) => setTimeout(resolve, 20));
      reading--;
      return deployment.storage.read(key, options);
    };
    const { results } = await follow(arn!, { once: true, storage: slow });
    expect(results.map((r) => `${r.stream} ${r.window.start.toISOString()}`)).toEqual(events.map((e) => `${e.stream} ${new Date(e.window.start).toISOString()}`));
    expect(most).toBe(7);
  });

  it('reports the windows a cancelled backfill left as not committed, with the cancel as their reason', async () => {
    const { executionArn: arn } = await start();
    const events = await windowList(arn!);
    await landWindow(deployment.storage, events[0]!);
    await deployment.sfn.send(new StopExecutionCommand({ executionArn: arn }));
    const { results, outcome } = await follow(arn!);
    expect(outcome.execution.status).toBe('ABORTED');
    expect(results.filter((r) => r.status === 'committed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'failed').map((r) => r.error!.message)).toEqual(Array(6).fill('stopped before the window finished: the backfill was cancelled'));
  });

  it('waits for a newer commit of a forced window', async () => {
    const first = await start();
    const events = await windowList(first.executionArn!);
    for (const event of events) await landWindow(deployment.storage, event);
    deployment.proxy.end(first.executionArn!, { status: 'SUCCEEDED' });
    const { executionArn: arn } = await start({ force: true });
    const forced = await windowList(arn!);
    const { results } = await follow(arn!, {
      between: async (poll) => {
        if (poll === 1) await landWindow(deployment.storage, forced[0]!, 99);
        if (poll === 2) deployment.proxy.end(arn!, { status: 'SUCCEEDED' });
      },
    });
    expect(results.filter((r) => r.status === 'committed').map((r) => r.records)).toEqual([99]);
    expect(results.filter((r) => r.status === 'failed')).toHaveLength(6);
  });

  it('fails with a clear error for an id that names no execution', async () => {
    const missing = executionArn(deployment.stateMachineArn, 'shop-0123456789ab-20240101T000000Z');
    const error = await describeBackfill(deployment.sfn, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect((error as Error).message).toBe(`no backfill ${missing}: Step Functions answered ExecutionDoesNotExist`);
  });
});
