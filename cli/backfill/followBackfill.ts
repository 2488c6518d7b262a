/**
 * Watches a backfill running inside AWS from the outside: the execution's status from Step
 * Functions, each window's outcome from the lake (a window is done when its commit appears).
 * Watching changes nothing, so it can stop and start again at any moment.
 */

import { DescribeExecutionCommand, type DescribeExecutionCommandOutput, type SFNClient } from '@aws-sdk/client-sfn';
import {
  AbortedError,
  ApilakeError,
  type Clock,
  ConcurrencyLimiter,
  type CurrentCommit,
  InputError,
  type LakeStorage,
  NOTHING_LANDED,
  parseManifest,
  parseManifestKey,
  type WindowResult,
} from '../../functions/index.js';
import type { BackfillInput } from '../../infra/backfillLayout.js';
import { backfillResultsPrefix } from '../../infra/backfillLayout.js';
import { inputError } from '../errors/hint.js';
import { mapRunFailures } from './mapRunFailures.js';
import { type BackfillEvent, committedWindows, eventWindow, eventWindowId, parseWindowList } from './windowList.js';

/** A backfill execution as Step Functions describes it. */
export interface BackfillExecution {
  readonly executionArn: string;
  readonly name: string;
  /** RUNNING, SUCCEEDED, FAILED, TIMED_OUT, ABORTED or PENDING_REDRIVE. */
  readonly status: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
  /** Why it failed, when it did. */
  readonly error?: string;
  /** Its output, once it succeeded: where the map wrote its results. */
  readonly output?: string;
  readonly input: BackfillInput;
}

/** Step Functions' answers for an id that names no execution. */
const NOT_FOUND = new Set(['ExecutionDoesNotExist', 'InvalidArn', 'StateMachineDoesNotExist', 'ResourceNotFound']);

/**
 * Describes a backfill.
 * @throws InputError when the id names no execution, or one that is not an apilake backfill.
 */
export async function describeBackfill(sfn: SFNClient, executionArn: string): Promise<BackfillExecution> {
  let described: DescribeExecutionCommandOutput;
  try {
    described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
  } catch (error) {
    if (error instanceof Error && NOT_FOUND.has(error.name)) {
      throw inputError(`no backfill ${executionArn}: Step Functions answered ${error.name}`, 'pass the id apilake backfill --remote printed, with the credentials and region of its account', {
        cause: error,
      });
    }
    throw error;
  }
  const input = parseInput(described.input);
  if (!input) throw new InputError(`execution ${executionArn} is not an apilake backfill: its input is not a window list reference`);
  const failure = [described.error, described.cause].filter(Boolean).join(': ');
  return {
    executionArn,
    name: described.name ?? executionArn.slice(executionArn.lastIndexOf(':') + 1),
    status: described.status ?? 'UNKNOWN',
    startDate: described.startDate ?? new Date(0),
    ...(described.stopDate ? { stopDate: described.stopDate } : {}),
    ...(failure ? { error: failure } : {}),
    ...(described.output ? { output: described.output } : {}),
    input,
  };
}

function parseInput(text: string | undefined): BackfillInput | undefined {
  try {
    const input = JSON.parse(text ?? '') as Partial<BackfillInput> | null;
    return input && typeof input.items === 'string' && typeof input.bucket === 'string' && typeof input.source === 'string' && typeof input.windows === 'number' ? (input as BackfillInput) : undefined;
  } catch {
    return undefined;
  }
}

/** Where and how a backfill is watched. */
export interface FollowInput {
  readonly sfn: SFNClient;
  /** The lake bucket. */
  readonly storage: LakeStorage;
  readonly executionArn: string;
  /** Receives every window once, as it commits or when the execution ends without it. */
  readonly onWindowEnd: (result: WindowResult) => void;
  /** Called after each look, with the execution as it was. */
  readonly onPoll?: (execution: BackfillExecution) => void;
  readonly clock: Clock;
  /** Time between two looks. */
  readonly pollMs: number;
  /** Look once instead of until the execution ends (`--status`). */
  readonly once?: boolean;
  /** Stops watching (the execution goes on). */
  readonly signal?: AbortSignal;
}

/** What was seen last. */
export interface FollowOutcome {
  readonly execution: BackfillExecution;
  /** Windows of the list with no outcome yet (only when the execution still runs). */
  readonly pending: number;
}

/** Manifests read at once while following: S3 answers each in tens of ms, so one at a time took a minute for a year of hourly windows. */
const MANIFEST_READS = 16;

/**
 * Reports each window of the backfill as it commits, until the execution ends (or once). When it
 * ends, windows it did not commit are failures, or "not started" when it was cancelled.
 */
export async function followBackfill(input: FollowInput): Promise<FollowOutcome> {
  let execution = await describeBackfill(input.sfn, input.executionArn);
  const pending = new Map((await readWindowList(input.storage, execution.input)).map((event) => [eventWindowId(event), event]));
  // A forced window is done only by a commit newer than the one it had when the backfill started.
  const seen = new Map<string, number>();
  for (;;) {
    // Status before the lake: every commit the execution made before it ended is then counted.
    execution = await describeBackfill(input.sfn, input.executionArn);
    const current = pending.size === 0 ? new Map<string, CurrentCommit>() : await committedWindows(input.storage, pending.values());
    const fresh = [...pending].flatMap(([id, event]) => {
      const commit = current.get(id);
      if (!commit || seen.get(id) === commit.commit) return [];
      seen.set(id, commit.commit);
      return [{ id, event, key: commit.key }];
    });
    // A year of windows commits thousands of manifests: read several at once, report in the list's order.
    const limiter = new ConcurrencyLimiter(MANIFEST_READS);
    const results = await Promise.all(fresh.map(({ event, key }) => limiter.run(() => committedResult(input.storage, event, key, execution))));
    fresh.forEach(({ id }, i) => {
      const result = results[i];
      if (!result) return;
      pending.delete(id);
      input.onWindowEnd(result);
    });
    input.onPoll?.(execution);
    if (execution.status !== 'RUNNING') {
      const reasons = pending.size > 0 ? await mapRunFailures(input.storage, execution.output) : new Map<string, string>();
      for (const [id, event] of pending) input.onWindowEnd(unfinishedResult(event, execution, reasons.get(id)));
      pending.clear();
      break;
    }
    if (input.once) break;
    await input.clock.sleep(input.pollMs, input.signal);
  }
  return { execution, pending: pending.size };
}

/** The window list an execution runs over. */
async function readWindowList(storage: LakeStorage, input: BackfillInput): Promise<BackfillEvent[]> {
  const bytes = await storage.read(input.items);
  const events = bytes && parseWindowList(bytes.toString('utf8'));
  if (!events) throw new ApilakeError(`the window list of this backfill, ${storage.uri(input.items)}, is ${bytes ? 'not a list of backfill events' : 'missing'}`);
  return events;
}

/** The result of a window whose commit appeared, or undefined while a forced window still shows its old commit. */
async function committedResult(storage: LakeStorage, event: BackfillEvent, key: string, execution: BackfillExecution): Promise<WindowResult | undefined> {
  const parsed = parseManifestKey(key)!;
  const bytes = await storage.read(key);
  if (!bytes) return undefined;
  const manifest = parseManifest(bytes, key, parsed);
  const before = new Date(manifest.committed_at) < execution.startDate;
  if (before && event.force) return undefined;
  return {
    ...noWork(event),
    // Committed before this backfill started: by another run between the listing and the start.
    status: before ? 'skipped' : 'committed',
    ...(before ? { skipReason: 'concurrent_commit' as const } : {}),
    records: manifest.totals.records,
    parts: manifest.totals.parts,
    bytes: manifest.totals.bytes,
    pages: manifest.pages,
    requests: manifest.requests,
    retries: manifest.retries,
    throttled: manifest.throttled,
    durationMs: manifest.duration_ms,
    manifestKey: key,
    runId: manifest.run_id,
  };
}

/** A window the execution ended without committing. */
function unfinishedResult(event: BackfillEvent, execution: BackfillExecution, reason: string | undefined): WindowResult {
  const error =
    execution.status === 'ABORTED'
      ? new AbortedError('the backfill was cancelled')
      : reason !== undefined
        ? new ApilakeError(reason)
        : execution.status === 'SUCCEEDED'
          ? new ApilakeError(
              `the function did not commit this window (why: the FAILED_*.json results under ${backfillResultsPrefix(execution.input.source)}/ in the lake bucket, or the function's log)`,
            )
          : new ApilakeError(`the backfill ended ${execution.status}${execution.error ? ` (${execution.error})` : ''} before this window committed`);
  return { ...noWork(event), status: 'failed', durationMs: 0, error };
}

function noWork(event: BackfillEvent): Omit<WindowResult, 'status' | 'durationMs'> {
  return { ...NOTHING_LANDED, source: event.source, stream: event.stream, window: eventWindow(event) };
}
