/** `apilake run`: the engine over a local lake (or an S3 bucket), with a line per window and a summary. */

import { EnvSecretProvider, findSource, loadEngine, openLake, Redactor, selectStreams, type WindowResult } from '../../functions/index.js';
import { formatStopped, formatSummary, formatWindowLine, NO_WINDOW } from '../format.js';
import { interruptSignal, signalExitCode, type StopSignal } from '../interrupt.js';
import { selectionFromFlags } from '../parseTime.js';
import { windowWarnings } from '../progress/windowWarnings.js';
import { slowPartWarnings } from '../progress/slowPartWarnings.js';
import { typeErrorWarnings } from '../progress/typeErrorWarnings.js';
import { WindowTally } from '../progress/WindowTally.js';
import { EXIT } from '../reportError.js';
import { TerminalOutput } from '../terminal/TerminalOutput.js';
import { budgetPlace, describeBudgetChange } from '../budgetPlace.js';

/** Flags of `apilake run`. */
export interface RunOptions {
  readonly stream?: string;
  readonly from?: string;
  readonly to?: string;
  readonly lake: string;
  /** Land into this S3 bucket (endpoint and credentials from the environment) instead of `lake`. */
  readonly bucket?: string;
  readonly force: boolean;
  readonly sources: string;
  /** Base URL override, used by `apilake demo` to point at its own server. */
  readonly baseUrl?: string;
}

/** Runs and exits non-zero when a window failed or was left undone: 128 + its number when a signal stopped it. */
export async function runCommand(sourceName: string, options: RunOptions): Promise<void> {
  const { tally, stoppedBy } = await runLocal(sourceName, options);
  if (stoppedBy) process.exitCode = signalExitCode(stoppedBy);
  else if (tally.counts.failed + tally.counts.interrupted + tally.counts.not_started > 0) process.exitCode = EXIT.windowsFailed;
}

/**
 * Runs a source into a local lake and prints progress; returns every window's result, their
 * tally, and the signal that stopped the run, if one did.
 */
export async function runLocal(sourceName: string, options: RunOptions): Promise<{ results: WindowResult[]; tally: WindowTally; stoppedBy?: StopSignal }> {
  // Every argument is checked before the secret is read: a typo in --stream is reported as such.
  const loaded = await findSource(options.sources, sourceName);
  const source = options.baseUrl ? { ...loaded.definition, base_url: options.baseUrl } : loaded.definition;
  selectStreams(source, options.stream);
  const now = new Date();
  const selection = selectionFromFlags(options, now);
  const [storage, { createSourceClient, runSource }] = await Promise.all([openLake(options), loadEngine()]);
  const redactor = new Redactor();
  const redact = (t: string) => redactor.text(t);
  const notices = new TerminalOutput(process.stderr);
  const client = await createSourceClient(source, new EnvSecretProvider(), { redactor, budget: budgetPlace(storage), onBudgetChange: (change) => notices.line(redact(describeBudgetChange(change))) });

  const out = new TerminalOutput(process.stdout);
  const interrupt = interruptSignal('finishing cleanly (windows in flight stop between pages and leave nothing visible)');
  const tally = new WindowTally(interrupt.signal);

  out.line(`apilake run ${source.name} → ${storage.location}`);
  if (selection.kind === 'range' && selection.to.getTime() > now.getTime()) {
    out.line(`  (windows ending after now are not over yet and are left out)`);
  }
  try {
    const results = await runSource({
      source,
      stream: options.stream,
      selection,
      client,
      storage,
      force: options.force,
      signal: interrupt.signal,
      onWindowStart: (stream, window) => tally.started(stream.name, window),
      onWindowEnd: (result) => {
        const outcome = tally.add(result);
        // Windows never started get one line at the end, not one each.
        if (outcome !== 'not_started') out.line(formatWindowLine(result, redact, outcome), '      ');
      },
    });
    if (results.length === 0) out.line(NO_WINDOW);
    out.line(formatSummary(source.name, tally, storage.location));
    const stopped = formatStopped(tally);
    if (stopped) out.line(stopped);
    for (const warning of [...windowWarnings(results, redact), ...typeErrorWarnings(source, results), ...slowPartWarnings(source, results)]) notices.line(`apilake: warning: ${warning}`, '  ');
    const failed = tally.failures.length;
    if (failed > 0) {
      notices.line(
        `${failed} window${failed === 1 ? '' : 's'} failed (✗ above); nothing of ${failed === 1 ? 'it' : 'them'} is visible. Re-run the same command to retry ${failed === 1 ? 'it' : 'them'}.`,
      );
    }
    return { results, tally, ...(interrupt.stoppedBy ? { stoppedBy: interrupt.stoppedBy } : {}) };
  } finally {
    interrupt.dispose();
    await client.close();
  }
}
