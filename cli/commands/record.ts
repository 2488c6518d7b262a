/** `apilake record`: cassettes of a source's windows, recorded against the live API with every secret masked. */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeWindow, EnvSecretProvider, findSource, FsLakeStorage, loadCassettes, Redactor, selectStreams, windowsFor } from '../../functions/index.js';
import { standInsFrom, type StandInFlags } from '../cassettes/standIns.js';
import { formatBytes, plural, shownPath } from '../format.js';
import { interruptSignal, signalExitCode } from '../interrupt.js';
import { selectionFromFlags } from '../parseTime.js';
import { DEFAULT_SOURCES_DIR, pathFlag } from '../pathFlags.js';
import { EXIT } from '../reportError.js';
import { TerminalOutput } from '../terminal/TerminalOutput.js';

/** Flags of `apilake record`. */
export interface RecordOptions extends StandInFlags {
  readonly stream?: string;
  readonly from: string;
  readonly to: string;
  readonly sources: string;
  /** @default `<sources>/cassettes` */
  readonly cassettes?: string;
}

/** Records one cassette per window; exits 1 when a window failed or did not replay, leaving its earlier cassette as it was. */
export async function recordCommand(sourceName: string, options: RecordOptions): Promise<void> {
  const { definition: source } = await findSource(options.sources, sourceName);
  const streams = selectStreams(source, options.stream);
  const now = new Date();
  const selection = selectionFromFlags(options, now);
  const standIns = standInsFrom(options, source);
  const jobs = streams.flatMap((stream) => windowsFor(source, stream, selection).map((window) => ({ stream, window })));
  const dir = options.cassettes ?? join(options.sources, 'cassettes');
  const out = new TerminalOutput(process.stdout);
  if (jobs.length === 0) {
    out.line(`apilake record ${source.name}: no complete window in the requested range`);
    return;
  }
  const { cassettePath, recordWindow, writeCassetteFile } = await loadCassettes();
  const scratch = await mkdtemp(join(tmpdir(), 'apilake-record-'));
  const redactor = new Redactor();
  const secrets = new EnvSecretProvider();
  let failed = 0;
  let recorded = 0;
  const interrupt = interruptSignal('finishing cleanly (the window in flight stops between pages and writes no cassette)');
  out.line(`apilake record ${source.name} → ${join(dir, source.name)}${options.baseUrl ? ` (from ${options.baseUrl})` : ''}`);
  try {
    for (const [n, { stream, window }] of jobs.entries()) {
      if (interrupt.signal.aborted) break;
      const where = `${stream.name} ${describeWindow(window)}`;
      const outcome = await recordWindow({
        source,
        stream,
        window,
        secrets,
        redactor,
        storage: new FsLakeStorage(join(scratch, `live-${n}`)),
        replayStorage: new FsLakeStorage(join(scratch, `replay-${n}`)),
        ...standIns,
        signal: interrupt.signal,
      });
      if (interrupt.signal.aborted && !outcome.cassette) {
        out.line(`  - ${where}: stopped, no cassette written`);
        break;
      }
      if (!outcome.cassette || !outcome.bytes) {
        failed++;
        const why = outcome.result.status === 'committed' ? outcome.problems : [`the window failed: ${outcome.result.error?.message ?? 'unknown error'}`];
        out.line(`  ✗ ${where}: no cassette written`);
        for (const line of why) out.line(`      ${redactor.text(line)}`, '        ');
        continue;
      }
      const file = cassettePath(dir, source.name, stream.name, window);
      await writeCassetteFile(file, outcome.bytes);
      recorded++;
      const { expected, interactions } = outcome.cassette;
      const masked = outcome.recordsMasked ? `; ${plural(outcome.maskedBodies, 'response')} masked, so the records replay masked` : '';
      out.line(
        `  ✓ ${where} ${plural(expected.records, 'record')}, ${plural(expected.pages, 'page')}, ${plural(interactions.length, 'request')} → ${shownPath(file)} (${formatBytes(outcome.bytes.length)})${masked}`,
      );
    }
  } finally {
    interrupt.dispose();
    await rm(scratch, { recursive: true, force: true });
  }
  const notRecorded = jobs.length - recorded - failed;
  out.line(
    `${source.name}: ${recorded} recorded, ${failed} failed${notRecorded > 0 ? `, ${notRecorded} not recorded (stopped)` : ''}; replay them with apilake test ${source.name}${pathFlag('sources', options.sources, DEFAULT_SOURCES_DIR)}`,
  );
  if (interrupt.stoppedBy) process.exitCode = signalExitCode(interrupt.stoppedBy);
  else if (failed > 0) process.exitCode = EXIT.windowsFailed;
}
