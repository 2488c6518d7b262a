/**
 * A window's claim held by a durable execution that has ended (timed out, stopped, failed without
 * freeing it) is taken over at once, on the durable execution SDK's local runner with moto's S3
 * and dynalite's idempotency table; the holder's status comes from a fake lookup (no local server
 * runs Lambda's durable execution APIs). A holder that runs, or whose status cannot be read, keeps
 * the window. Two takers of one stale claim get it once between them, and the conditional delete
 * never removes a claim that names another execution.
 */

import { Logger } from '@aws-lambda-powertools/logger';
import { describe, expect, it, vi } from 'vitest';
import {
  claimConfig,
  claimWindow,
  CLAIM_KEY_PREFIX,
  ClaimInProgressError,
  releaseWindow,
  takeOverWindow,
  type DurableExecutionStatusLookup,
  type WindowKey,
} from '../../functions/ingest/windowClaim.js';
import { snapshotStream } from '../../functions/sink/lakeSnapshot.js';
import { DAY, dailyCursorSource, durableDeps, durableRunner, useDurableTestbed } from '../support/durableTestbed.js';
import { lambdaContext } from '../support/lambdaContext.js';

const bed = useDurableTestbed({ api: { count: 20, spacingMs: 3_600_000 } });

const KEY: WindowKey = { source: 'testapi', stream: 'items', window: DAY };
const EXECUTIONS = 'arn:aws:lambda:us-east-1:000000000000:function:apilake-test:3/durable-execution';
const OLD = `${EXECUTIONS}/tick-old/0001`;

/** A status lookup that answers `status` (or throws it) and records whom it was asked about. */
function fakeStatus(status: string | Error): DurableExecutionStatusLookup & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    durableExecutionStatus: async (arn) => {
      asked.push(arn);
      if (status instanceof Error) throw status;
      return Promise.resolve(status);
    },
  };
}

/** The testbed's dependencies with the window already claimed by `holder`, as an execution that never freed it leaves it. */
async function claimedBy(holder: string, overrides: Parameters<typeof durableDeps>[2] = {}) {
  const setUp = await durableDeps(bed, dailyCursorSource(bed.api.url, 5), overrides);
  const seeded = await claimWindow(KEY, holder, lambdaContext(), setUp.deps.persistenceStore);
  expect(seeded).toEqual({ kind: 'claimed' });
  const [claim] = await setUp.claims();
  expect(claim).toMatchObject({ status: 'COMPLETED', data: { execution: holder } });
  return { ...setUp, claim: claim! };
}

describe('a window claimed by another durable execution', () => {
  it.each(['TIMED_OUT', 'STOPPED', 'FAILED', 'SUCCEEDED'])(
    'is taken over and landed when its holder is %s',
    async (status) => {
      const lookup = fakeStatus(status);
      const { deps, storage, claims } = await claimedBy(OLD, { executionStatus: lookup });
      const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
      expect(execution.getStatus()).toBe('SUCCEEDED');
      expect(execution.getResult()!.streams).toMatchObject([{ stream: 'items', status: 'committed', records: 20 }]);
      expect(lookup.asked).toEqual([OLD]);
      expect((await snapshotStream(storage, 'testapi', 'items')).committed).toHaveLength(1);
      // The claim now names the execution that landed the window: a later delivery reports a duplicate.
      const [claim, ...others] = await claims();
      expect(others).toEqual([]);
      expect(claim).toMatchObject({ status: 'COMPLETED' });
      expect((claim!.data as { execution: string }).execution).not.toBe(OLD);
      const again = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
      expect(again.getResult()!.streams).toMatchObject([{ status: 'duplicate', records: 20 }]);
      // A committed window is not taken over: its holder's status is not even asked.
      expect(lookup.asked).toEqual([OLD]);
    },
    120_000,
  );

  it('fails, leaving the claim as it was, when its holder is running', async () => {
    const lookup = fakeStatus('RUNNING');
    const { deps, storage, claims, claim } = await claimedBy(OLD, { executionStatus: lookup });
    const before = bed.api.requests.length;
    const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
    // The window failed, and no task waits for it: the execution fails, so its event reaches the on-failure destination.
    expect(execution.getStatus()).toBe('FAILED');
    expect(execution.getError()?.errorMessage).toContain(`execution ${OLD} holds this window`);
    expect(lookup.asked).toEqual([OLD]);
    expect(bed.api.requests.length).toBe(before);
    expect(await claims()).toEqual([claim]);
    expect((await snapshotStream(storage, 'testapi', 'items')).committed).toEqual([]);
  }, 120_000);

  it('fails as when no status is known, leaving the claim, and warns once, when the status cannot be read', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: lambda:GetDurableExecution'), { name: 'AccessDeniedException' });
    const lookup = fakeStatus(denied);
    const logger = new Logger({ serviceName: 'apilake', logLevel: 'SILENT' });
    const warn = vi.spyOn(logger, 'warn');
    const { deps, claims, claim } = await claimedBy(OLD, { executionStatus: lookup, logger });
    for (let delivery = 0; delivery < 2; delivery++) {
      const execution = await durableRunner(deps).run({ payload: { source: 'testapi', stream: 'items', window: DAY } });
      expect(execution.getStatus()).toBe('FAILED');
      expect(execution.getError()?.errorMessage).toContain(`execution ${OLD} holds this window`);
    }
    expect(lookup.asked).toEqual([OLD, OLD]);
    expect(await claims()).toEqual([claim]);
    const warnings = warn.mock.calls.filter(([message]) => typeof message === 'string' && message.includes('could not read the status'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]![1]).toMatchObject({ holder: OLD, reason: 'AccessDeniedException' });
  }, 120_000);
});

describe('taking over a stale claim', () => {
  it('gives the window to exactly one of two executions taking it over at once, and the other finds it held by the winner', async () => {
    for (let round = 0; round < 8; round++) {
      const { deps, claims } = await claimedBy(OLD);
      const takers = [`${EXECUTIONS}/tick-a/${round}`, `${EXECUTIONS}/tick-b/${round}`];
      const outcomes = await Promise.allSettled(takers.map((taker) => takeOverWindow(KEY, OLD, taker, lambdaContext(), deps.persistenceStore)));
      const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' && o.value.kind === 'claimed' ? [takers[i]!] : []));
      expect(won).toHaveLength(1);
      const loser = outcomes.find((o) => !(o.status === 'fulfilled' && o.value.kind === 'claimed'))!;
      // The loser either finds the winner's claim, or finds it half-way and its claim step tries again later.
      if (loser.status === 'fulfilled') expect(loser.value).toEqual({ kind: 'held', holder: won[0] });
      else expect(loser.reason).toBeInstanceOf(ClaimInProgressError);
      const [claim, ...others] = await claims();
      expect(others).toEqual([]);
      expect(claim).toMatchObject({ status: 'COMPLETED', data: { execution: won[0] } });
      // A taker that comes after the winner (its delete runs late) leaves the winner's claim.
      const late = await takeOverWindow(KEY, OLD, `${EXECUTIONS}/tick-c/${round}`, lambdaContext(), deps.persistenceStore);
      expect(late).toEqual({ kind: 'held', holder: won[0] });
      expect(await claims()).toEqual([claim]);
    }
  }, 120_000);

  it("keeps the taker's claim when the ended holder's last invocation releases the window late", async () => {
    const { deps, claims } = await claimedBy(OLD);
    const taker = `${EXECUTIONS}/tick-new/0001`;
    expect(await takeOverWindow(KEY, OLD, taker, lambdaContext(), deps.persistenceStore)).toEqual({ kind: 'claimed', tookOverFrom: OLD });
    const [taken] = await claims();
    // The ended holder's invocation was still in flight: its window failed and it frees what it believes is its claim.
    await releaseWindow(KEY, OLD, deps.persistenceStore);
    expect(await claims()).toEqual([taken]);
    // So a third delivery finds the window held by the taker, not free to land beside it.
    expect(await claimWindow(KEY, `${EXECUTIONS}/tick-third/0001`, lambdaContext(), deps.persistenceStore)).toEqual({ kind: 'held', holder: taker });
    // The holder's own release still frees the window.
    await releaseWindow(KEY, taker, deps.persistenceStore);
    expect(await claims()).toEqual([]);
  }, 60_000);

  it('deletes a claim only while it names the ended holder', async () => {
    const { deps, claims, claim } = await claimedBy(OLD);
    const store = deps.persistenceStore;
    store.configure({ config: claimConfig(), keyPrefix: CLAIM_KEY_PREFIX });
    expect(await store.deleteIfHeldBy(KEY, `${EXECUTIONS}/tick-other/0001`)).toBe(false);
    expect(await claims()).toEqual([claim]);
    expect(await store.deleteIfHeldBy(KEY, OLD)).toBe(true);
    expect(await claims()).toEqual([]);
    expect(await store.deleteIfHeldBy(KEY, OLD)).toBe(false);
    // A claim half-way (in progress, no holder named yet) is never deleted.
    await store.saveInProgress(KEY, 60_000);
    const [inProgress] = await claims();
    expect(inProgress).toMatchObject({ status: 'INPROGRESS' });
    expect(await store.deleteIfHeldBy(KEY, OLD)).toBe(false);
    expect(await claims()).toEqual([inProgress]);
  }, 60_000);

  it('refuses, saying so, a claim record that names no execution, instead of reading its holder as undefined', async () => {
    const { deps } = await durableDeps(bed, dailyCursorSource(bed.api.url, 5));
    const store = deps.persistenceStore;
    store.configure({ config: claimConfig(), keyPrefix: CLAIM_KEY_PREFIX });
    await store.saveInProgress(KEY, 60_000);
    await store.saveSuccess(KEY, 'not a claim');
    await expect(claimWindow(KEY, `${EXECUTIONS}/tick-new/0001`, lambdaContext(), store)).rejects.toThrow(/the window's claim .* names no durable execution/);
  }, 60_000);
});
