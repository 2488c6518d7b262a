/**
 * Starts a backfill inside AWS: writes the list of windows not yet committed to the lake bucket
 * and starts one execution of the source's backfill state machine over it, or finds the execution
 * already running for the same range. Nothing here waits for a window.
 */

import { DescribeExecutionCommand, ExecutionAlreadyExists, ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { ApilakeError, type LakeStorage, selectStreams, type SourceDefinition, type WindowSelection, windowsFor } from '../../functions/index.js';
import { backfillItemsKey, type BackfillInput } from '../../infra/backfillLayout.js';
import { backfillName, backfillRangeKey, executionArn } from './backfillId.js';
import { claimStart } from './startClaims.js';
import { backfillEvent, type BackfillEvent, committedWindows, eventWindowId } from './windowList.js';

/** What a backfill in AWS is started from. */
export interface StartRemoteBackfillInput {
  readonly source: SourceDefinition;
  readonly stream?: string;
  readonly selection: WindowSelection;
  /** Lands committed windows again (each event carries `force`). */
  readonly force: boolean;
  readonly stateMachineArn: string;
  /** The lake bucket: committed windows are read from it and the window list written to it. */
  readonly storage: LakeStorage;
  readonly bucket: string;
  readonly sfn: SFNClient;
  /** @default new Date() */
  readonly now?: Date;
  /** Waits while another command's claim may still be starting its execution. @default a timer */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What came of it: a new execution, one already running over the same range, or nothing to do. */
export interface RemoteBackfillStart {
  readonly outcome: 'started' | 'running' | 'nothing';
  /** Absent when there was nothing to do. */
  readonly executionArn?: string;
  readonly input: BackfillInput;
}

/**
 * Starts the backfill. A second call for the same range while the first execution runs returns
 * that execution, and of calls made at the same moment one starts it and the others return it
 * (startClaims.ts); a retried StartExecution whose answer was lost returns the same execution
 * (Step Functions treats a repeated name and input as one request).
 */
export async function startRemoteBackfill(input: StartRemoteBackfillInput): Promise<RemoteBackfillStart> {
  const { source } = input;
  const streams = selectStreams(source, input.stream);
  const all: BackfillEvent[] = streams.flatMap((stream) => windowsFor(source, stream, input.selection).map((window) => backfillEvent(source.name, stream.name, window, input.force)));
  const committed = input.force ? new Map() : await committedWindows(input.storage, all);
  const events = all.filter((event) => !committed.has(eventWindowId(event)));
  const from = all.reduce((min, e) => (e.window.start < min ? e.window.start : min), all[0]?.window.start ?? '');
  const to = all.reduce((max, e) => (e.window.end > max ? e.window.end : max), all[0]?.window.end ?? '');
  const range = { source: source.name, ...(input.stream ? { stream: input.stream } : {}), from, to, force: input.force };
  const name = backfillName(range, input.now ?? new Date());
  const backfill: BackfillInput = { items: backfillItemsKey(source.name, name), bucket: input.bucket, ...range, windows: events.length, committed: all.length - events.length };
  if (events.length === 0) return { outcome: 'nothing', input: backfill };

  const rangeKey = backfillRangeKey(range);
  const running = await runningExecution(input.sfn, input.stateMachineArn, `${rangeKey}-`);
  if (running) return { outcome: 'running', executionArn: running, input: backfill };

  // The list is written before the claim, so a claim's execution starts moments after it (a list of
  // a year of windows may take a minute to upload); a crash before the start leaves an unused list
  // and no execution, and the next run writes its own.
  await input.storage.putIfAbsent(backfill.items, JSON.stringify(events));
  // Commands that start the range at the same moment find none running: a claim decides which one starts (startClaims.ts).
  const claim = await claimStart({
    storage: input.storage,
    source: source.name,
    rangeKey,
    name,
    sfn: input.sfn,
    stateMachineArn: input.stateMachineArn,
    ...(input.sleep ? { sleep: input.sleep } : {}),
  });
  if (claim.kind === 'running') {
    // Another command's execution runs the range: this one's list (its own name) is never read.
    await input.storage.delete([backfill.items]).catch(() => undefined);
    return { outcome: 'running', executionArn: claim.executionArn, input: backfill };
  }
  try {
    const started = await input.sfn.send(new StartExecutionCommand({ stateMachineArn: input.stateMachineArn, name, input: JSON.stringify(backfill) }));
    return { outcome: 'started', executionArn: started.executionArn!, input: backfill };
  } catch (error) {
    // Another command started this very name a moment ago (same range, same millisecond).
    if (!(error instanceof ExecutionAlreadyExists)) throw error;
    const existing = executionArn(input.stateMachineArn, name);
    const { status } = await input.sfn.send(new DescribeExecutionCommand({ executionArn: existing }));
    if (status === 'RUNNING') return { outcome: 'running', executionArn: existing, input: backfill };
    throw new ApilakeError(`a backfill named ${name} already ran (${status ?? 'unknown'}); run the command again to start another`, { cause: error });
  }
}

/** The ARN of a running execution whose name starts with `prefix`, if any. */
async function runningExecution(sfn: SFNClient, stateMachineArn: string, prefix: string): Promise<string | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', nextToken }));
    const found = page.executions?.find((e) => e.name?.startsWith(prefix));
    if (found) return found.executionArn;
    nextToken = page.nextToken;
  } while (nextToken);
  return undefined;
}
