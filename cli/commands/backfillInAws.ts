/** `apilake backfill --remote`, `--status <id>` and `--cancel <id>`: a backfill that runs inside AWS, one Step Functions execution per backfill. */

import { type SFNClient, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { backfillConcurrency, type LakeStorage, openLake, Redactor, type SourceDefinition, systemClock, type WindowSelection } from '../../functions/index.js';
import { backfillOutputKey } from '../../infra/outputs.js';
import { BackfillProgress } from '../backfill/BackfillProgress.js';
import { type BackfillId, executionArn, parseBackfillId } from '../backfill/backfillId.js';
import { type BackfillExecution, describeBackfill, followBackfill } from '../backfill/followBackfill.js';
import { startRemoteBackfill } from '../backfill/startRemoteBackfill.js';
import { formatFailures, formatStopped, formatSummary, plural } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';
import { readStackOutputs, requireOutput, resolveBucket, type RemoteOptions } from '../remote/stackOutputs.js';
import { EXIT } from '../reportError.js';
import { TerminalOutput } from '../terminal/TerminalOutput.js';

/** Time between two looks at a backfill being followed: windows take seconds to minutes, a look costs a listing of the stream's manifests. */
export const FOLLOW_POLL_MS = 10_000;

/** Flags of the commands in AWS. */
export interface InAwsOptions extends RemoteOptions {
  readonly follow?: boolean;
  /** The lake bucket. @default the stack outputs' */
  readonly bucket?: string;
  /** The state machine. @default the stack outputs' BackfillStateMachine<Source> */
  readonly stateMachine?: string;
}

async function sfnClient(): Promise<SFNClient> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  return new SFNClient({});
}

async function resolveStateMachine(source: string, options: InAwsOptions): Promise<string> {
  if (options.stateMachine) return options.stateMachine;
  return requireOutput(await readStackOutputs(options, '--state-machine ARN'), backfillOutputKey(source), '--state-machine ARN');
}

/** Starts a backfill in AWS and prints its id at once; with --follow, shows its progress until it ends. */
export async function startInAws(source: SourceDefinition, input: { stream?: string; selection: WindowSelection; force: boolean }, options: InAwsOptions): Promise<void> {
  const [stateMachineArn, bucket] = [await resolveStateMachine(source.name, options), await resolveBucket(options)];
  const out = new TerminalOutput(process.stdout);
  const storage = await openLake({ bucket, lake: '' });
  const sfn = await sfnClient();
  const started = await startRemoteBackfill({ source, stream: input.stream, selection: input.selection, force: input.force, stateMachineArn, storage, bucket, sfn });
  const { windows, committed } = started.input;
  const skipped = committed > 0 ? `, ${committed.toLocaleString('en')} already committed and left out` : '';
  out.line(`apilake backfill ${source.name} in AWS: ${plural(windows, 'window')}${skipped}, up to ${backfillConcurrency(source)} at once (the source's rate_limit)`);
  if (started.outcome === 'nothing') {
    // Only windows that have ended are landed: a range still running holds none yet.
    out.line(committed > 0 ? 'every window of the range is committed: nothing to start (--force lands them again)' : 'no window of the range has ended yet: nothing to start');
    return;
  }
  const id = started.executionArn!;
  out.line(started.outcome === 'started' ? `started ${id}` : `already running for this range: ${id}`);
  out.line(`  progress: apilake backfill --status ${id} [--follow]`);
  out.line(`  cancel:   apilake backfill --cancel ${id}`);
  if (options.follow) await follow(sfn, storage, await describeBackfill(sfn, id), out);
}

/** Shows a backfill once, or with --follow until it ends. */
export async function statusInAws(id: string, options: InAwsOptions): Promise<void> {
  const arn = await resolveId(parseBackfillId(id), options);
  const sfn = await sfnClient();
  const execution = await describeBackfill(sfn, arn);
  const storage = await openLake({ bucket: execution.input.bucket, lake: '' });
  const out = new TerminalOutput(process.stdout);
  out.line(describeLine(execution));
  await follow(sfn, storage, execution, out, !options.follow);
}

/** Stops a backfill: no window starts after this; a window in flight finishes its invocation, committed or leaving nothing visible. */
export async function cancelInAws(id: string, options: InAwsOptions): Promise<void> {
  const arn = await resolveId(parseBackfillId(id), options);
  const sfn = await sfnClient();
  const execution = await describeBackfill(sfn, arn);
  const out = new TerminalOutput(process.stdout);
  if (execution.status !== 'RUNNING') {
    out.line(`${execution.name} already ended (${execution.status}): nothing to cancel`);
    return;
  }
  await sfn.send(new StopExecutionCommand({ executionArn: arn, cause: 'cancelled with apilake backfill --cancel' }));
  out.line(`cancelled ${execution.name}: no new window starts; windows in flight finish, committed or leaving nothing visible`);
  out.line(`  run the same range again to land what is left (committed windows are skipped)`);
}

async function resolveId(id: BackfillId, options: InAwsOptions): Promise<string> {
  return id.kind === 'arn' ? id.executionArn : executionArn(await resolveStateMachine(id.source, options), id.name);
}

function describeLine(execution: BackfillExecution): string {
  const { input } = execution;
  const when = execution.stopDate ? `${execution.startDate.toISOString()} → ${execution.stopDate.toISOString()}` : `since ${execution.startDate.toISOString()}`;
  const streams = input.stream ? `stream ${input.stream}` : 'every stream';
  return `${execution.name}: ${execution.status} ${when} · ${input.source}, ${streams}, ${input.from} → ${input.to}${input.force ? ' (forced)' : ''} · ${input.windows} windows`;
}

/** Reports the backfill's windows (once, or until it ends) and sets the exit code. */
async function follow(sfn: SFNClient, storage: LakeStorage, execution: BackfillExecution, out: TerminalOutput, once = false): Promise<void> {
  const redactor = new Redactor();
  const interrupt = interruptSignal('stopped watching; the backfill goes on in AWS');
  // Aborted once the execution shows as cancelled: its unfinished windows are then "not started".
  const cancelled = new AbortController();
  const progress = new BackfillProgress({ total: execution.input.windows, output: out, redact: (t) => redactor.text(t), interrupt: cancelled.signal });
  let last = execution;
  try {
    ({ execution: last } = await followBackfill({
      sfn,
      storage,
      executionArn: execution.executionArn,
      clock: systemClock,
      pollMs: FOLLOW_POLL_MS,
      once,
      signal: interrupt.signal,
      onPoll: (seen) => {
        if (seen.status === 'ABORTED') cancelled.abort('cancelled');
      },
      onWindowEnd: (result) => progress.windowDone(result),
    }));
  } catch (error) {
    if (!interrupt.signal.aborted) throw error;
  } finally {
    interrupt.dispose();
  }
  progress.finish();
  if (interrupt.stoppedBy) {
    out.line(`the backfill goes on in AWS: apilake backfill --status ${execution.executionArn} --follow`);
    process.exitCode = signalExitCode(interrupt.stoppedBy);
    return;
  }
  if (last.status === 'RUNNING') {
    // Piped, no status line was drawn: the look's figures go on a line of their own.
    if (!out.interactive) out.line(progress.statusLine());
    return;
  }
  const { tally } = progress;
  out.line(`${last.name} ended ${last.status}${last.error ? ` (${redactor.text(last.error)})` : ''}`);
  out.line(formatSummary(last.input.source, tally, `s3://${last.input.bucket}`));
  if (tally.failures.length > 0) {
    out.line(`\nfailed windows (run the same range again to retry only these):`);
    for (const line of formatFailures(tally.failures, (t) => redactor.text(t))) out.line(line, '      ');
  }
  const stopped = formatStopped(tally);
  if (stopped) out.line(stopped);
  if (tally.counts.committed + tally.counts.skipped < last.input.windows) process.exitCode = EXIT.windowsFailed;
}
