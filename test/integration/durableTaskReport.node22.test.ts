/**
 * A backfill window's durable execution answers the Step Functions task that waits for it, on the
 * durable execution SDK's local runner with moto's S3, dynalite's idempotency table and a server
 * that plays the task side of the callback pattern (test/support/taskTokenServer.ts): the summary
 * of a landed window, the failure of one that did not land, once however often the execution is
 * replayed, and a token that is no longer waited for only logged.
 */

import { describe, expect, it, vi } from 'vitest';
import { REPORT_STEP } from '../../functions/ingest/durableIngest.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { DAY, dailyCursorSource, durableDeps, durableRunner, useDurableTestbed } from '../support/durableTestbed.js';

const bed = useDurableTestbed({ api: { count: 20, spacingMs: 3_600_000 }, tasks: true });
const setUp = () => durableDeps(bed, dailyCursorSource(bed.api.url, 5));

const answersTo = (token: string) => bed.tasks.answers.filter((a) => a.taskToken === token);

describe("the durable function answers a backfill's waiting task", () => {
  it('with the summary of the window it landed, once, even when the execution is replayed after the answer', async () => {
    const { deps, storage } = await setUp();
    const taskToken = bed.tasks.wait();
    const execution = await durableRunner(deps, { thenWait: true }).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getInvocations().length).toBeGreaterThanOrEqual(2);
    const result = execution.getResult()!;
    expect(result.streams).toMatchObject([{ stream: 'items', status: 'committed', records: 20 }]);
    expect(answersTo(taskToken)).toEqual([{ operation: 'SendTaskSuccess', taskToken, output: JSON.stringify(result), reply: 'accepted' }]);
    expect(execution.getOperations().filter((o) => o.getName() === REPORT_STEP)).toHaveLength(1);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
  }, 120_000);

  it("with WindowsFailedError and a cause naming the window and the API's error, and the execution does not fail too", async () => {
    const { deps } = await setUp();
    const taskToken = bed.tasks.wait();
    bed.api.failWhen(() => true, { kind: 'status', status: 404, body: '{"error":"no such page"}' }, 1);
    const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    // The map has the failure reported to it and tries the window again: Lambda must not retry the event nor dead-letter it.
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(execution.getResult()!.streams).toMatchObject([{ stream: 'items', status: 'failed' }]);
    const [answer, ...more] = answersTo(taskToken);
    expect(more).toEqual([]);
    expect(answer).toMatchObject({ operation: 'SendTaskFailure', error: 'WindowsFailedError', reply: 'accepted' });
    expect(answer!.cause).toMatch(/^1 window\(s\) failed: items \[2024-01-01T00:00:00Z, 2024-01-02T00:00:00Z\): .*404/);
  }, 120_000);

  it('and logs a token the task no longer waits for, without trying the answer again', async () => {
    const { deps } = await setUp();
    const warn = vi.spyOn(deps.logger, 'warn');
    const taskToken = bed.tasks.wait();
    bed.tasks.timeOut(taskToken);
    const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(answersTo(taskToken).map((a) => a.reply)).toEqual(['TaskTimedOut']);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/no longer waits for this window's outcome/), expect.objectContaining({ outcome: 'landed' }));
    expect(JSON.stringify(warn.mock.calls)).not.toContain(taskToken);
  }, 120_000);

  it('again after the service failed to take the answer', async () => {
    const { deps } = await setUp();
    const taskToken = bed.tasks.wait();
    bed.tasks.failNext(1);
    const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY, force: false, taskToken } });
    expect(execution.getStatus()).toBe('SUCCEEDED');
    expect(answersTo(taskToken).map((a) => a.reply)).toEqual(['ServiceFault', 'accepted']);
  }, 120_000);

  it('only when the event has a token: without one, a failed window fails the execution', async () => {
    const { deps } = await setUp();
    const before = bed.tasks.answers.length;
    bed.api.failWhen(() => true, { kind: 'status', status: 404 }, 1);
    const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
    expect(execution.getStatus()).toBe('FAILED');
    expect(execution.getError()?.errorType).toBe('WindowsFailedError');
    expect(bed.tasks.answers.length).toBe(before);
  }, 120_000);
});
