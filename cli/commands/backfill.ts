/** `apilake backfill`: replays a range of windows, locally or inside AWS (backfillInAws.ts). */

import { backfillConcurrency, countWindows, EnvSecretProvider, findSource, InputError, loadEngine, openLake, Redactor, selectStreams, type WindowResult } from '../../functions/index.js';
import { BackfillProgress } from '../backfill/BackfillProgress.js';
import { formatFailures, formatStopped, formatSummary, NO_WINDOW, plural } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';
import { windowWarnings } from '../progress/windowWarnings.js';
import { slowPartWarnings } from '../progress/slowPartWarnings.js';
import { typeErrorWarnings } from '../progress/typeErrorWarnings.js';
import { selectionFromFlags } from '../parseTime.js';
import { EXIT } from '../reportError.js';
import { TerminalOutput } from '../terminal/TerminalOutput.js';
import { budgetPlace, describeBudgetChange } from '../budgetPlace.js';

/** Flags of `apilake backfill`. */
export interface BackfillOptions {
  /** Required unless --status or --cancel. */
  readonly from?: string;
  readonly to?: string;
  readonly stream?: string;
  readonly concurrency: string;
  readonly lake: string;
  readonly remote: boolean;
  readonly force: boolean;
  /** Build the Parquet files of committed windows from their raw parts, without calling the API. */
  readonly curateOnly?: boolean;
  /** With --curate-only: the lake in this S3 bucket. */
  readonly bucket?: string;
  readonly sources: string;
  readonly outputs?: string;
  readonly stage?: string;
  /** With --remote or --status: show the progress of the backfill in AWS until it ends. */
  readonly follow?: boolean;
  /** Show the backfill in AWS with this id. */
  readonly status?: string;
  /** Stop the backfill in AWS with this id. */
  readonly cancel?: string;
  /** With --remote, --status or --cancel: the backfill state machine (default: from the stack outputs). */
  readonly stateMachine?: string;
}

export async function backfillCommand(sourceName: string | undefined, options: BackfillOptions): Promise<void> {
  // Every argument is checked before a secret is read or AWS is called.
  const byId = options.status ?? options.cancel;
  if (byId !== undefined) {
    if (options.status !== undefined && options.cancel !== undefined) throw new InputError('--status and --cancel go one at a time');
    if (sourceName !== undefined || options.from !== undefined || options.to !== undefined || options.remote || options.force || options.curateOnly) {
      throw new InputError(`--${options.status !== undefined ? 'status' : 'cancel'} <id> takes no source, range, --remote, --force or --curate-only: the id names the backfill`);
    }
    if (options.cancel !== undefined && options.follow) throw new InputError('--follow goes with --remote or --status, not --cancel');
    const inAws = await import('./backfillInAws.js');
    return options.status !== undefined ? inAws.statusInAws(options.status, options) : inAws.cancelInAws(byId, options);
  }
  if (sourceName === undefined) throw new InputError('missing the source: apilake backfill <source> --from ISO --to ISO (or --status <id> / --cancel <id>)');
  if (options.from === undefined || options.to === undefined) throw new InputError(`missing ${options.from === undefined ? '--from' : '--to'}: a backfill replays the windows of a range`);
  const { definition: source } = await findSource(options.sources, sourceName);
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new InputError(`--concurrency must be a whole number from 1 to 64, got "${options.concurrency}"`);
  // Windows are aligned to each stream's grid: a ragged --from/--to widens to the windows containing them.
  const selection = selectionFromFlags({ from: options.from, to: options.to }, new Date());
  const total = countWindows(source, selectStreams(source, options.stream), selection);
  if (options.curateOnly && options.remote) throw new InputError('--curate-only reads the lake, never the API: it takes no --remote (use --bucket NAME for a lake in S3)');
  if (options.bucket && !options.curateOnly && !options.remote)
    throw new InputError('--bucket goes with --curate-only or --remote; to land windows into S3 use --remote (the deployed function) or apilake run --bucket');
  if (options.follow && !options.remote) throw new InputError('--follow goes with --remote (a backfill in AWS) or --status <id>; a local backfill always shows its progress');
  if (options.remote) {
    if (concurrency !== 1) {
      throw new InputError(
        `--concurrency is for local backfills: in AWS, windows in flight follow the source's rate_limit (${backfillConcurrency(source)} at once for ${source.name}; docs/deploy.md says how)`,
      );
    }
    const { startInAws } = await import('./backfillInAws.js');
    return startInAws(source, { stream: options.stream, selection, force: options.force }, options);
  }

  const out = new TerminalOutput(process.stdout);
  const redactor = new Redactor();
  const interrupt = interruptSignal('no new windows start; windows in flight stop between pages and leave nothing visible');
  const progress = new BackfillProgress({ total, output: out, redact: (t) => redactor.text(t), interrupt: interrupt.signal });
  const onWindowStart = (stream: { readonly name: string }, window: WindowResult['window']) => progress.windowStarted(stream.name, window);
  const results: WindowResult[] = [];
  // The lake as the summary names it: the storage's location, absolute, as `run` names it.
  let location = '';
  const onWindowEnd = (result: WindowResult) => {
    results.push(result);
    progress.windowDone(result);
  };
  try {
    if (options.curateOnly) {
      const [storage, { curateRange }] = await Promise.all([openLake(options), loadEngine()]);
      location = storage.location;
      const what = options.force ? 'rebuilding every table from its raw parts' : 'no API call';
      out.line(`apilake backfill ${source.name} --curate-only${options.force ? ' --force' : ''} in ${location} (${plural(total, 'window')}, ${concurrency} at once, ${what})`);
      if (total === 0) out.line(NO_WINDOW);
      await curateRange({ source, stream: options.stream, selection, storage, concurrency, force: options.force, signal: interrupt.signal, onWindowStart, onWindowEnd });
    } else {
      const [storage, { createSourceClient, runSource }] = await Promise.all([openLake({ lake: options.lake }), loadEngine()]);
      const client = await createSourceClient(source, new EnvSecretProvider(), {
        redactor,
        budget: budgetPlace(storage),
        onBudgetChange: (change) => out.line(redactor.text(describeBudgetChange(change))),
      });
      location = storage.location;
      out.line(`apilake backfill ${source.name} → ${location} (${plural(total, 'window')}, ${concurrency} at once, one shared rate limit)`);
      if (total === 0) out.line(NO_WINDOW);
      try {
        await runSource({ source, stream: options.stream, selection, client, storage, force: options.force, windowConcurrency: concurrency, signal: interrupt.signal, onWindowStart, onWindowEnd });
      } finally {
        await client.close();
      }
    }
  } finally {
    interrupt.dispose();
  }
  progress.finish();
  const { tally } = progress;
  out.line(formatSummary(source.name, tally, location));
  if (tally.failures.length > 0) {
    out.line(`\nfailed windows (run the same command again to retry only these):`);
    for (const line of formatFailures(tally.failures, (t) => redactor.text(t))) out.line(line, '      ');
  }
  const stopped = formatStopped(tally);
  if (stopped) out.line(stopped);
  const notices = new TerminalOutput(process.stderr);
  // Curating measures no landing: its windows' times say nothing of the deployed function.
  const paceWarnings = options.curateOnly ? [] : slowPartWarnings(source, results);
  for (const warning of [...windowWarnings(results, (t) => redactor.text(t)), ...typeErrorWarnings(source, results), ...paceWarnings]) notices.line(`apilake: warning: ${warning}`, '  ');
  if (interrupt.stoppedBy) process.exitCode = signalExitCode(interrupt.stoppedBy);
  else if (tally.counts.failed + tally.counts.interrupted + tally.counts.not_started > 0) process.exitCode = EXIT.windowsFailed;
}
