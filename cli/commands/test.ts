/** `apilake test`: replays a source's cassettes offline and compares what lands with what each pins; `--live` reports drift of the live API. */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describeWindow, findSource, FsLakeStorage, InputError, loadCassettes, selectStreams, type Cassette } from '../../functions/index.js';
import { liveDrift } from '../cassettes/liveDrift.js';
import { hasStandIns, standInsFrom, type StandInFlags } from '../cassettes/standIns.js';
import { junitXml, type JunitCase } from '../cassettes/junitReport.js';
import { plural, shownPath } from '../format.js';
import { EXIT } from '../reportError.js';
import { TerminalOutput } from '../terminal/TerminalOutput.js';

/** Flags of `apilake test`; the stand-in flags (`--base-url`, `--token-url`, `--origin`) go with `--live`. */
export interface TestOptions extends StandInFlags {
  readonly stream?: string;
  readonly sources: string;
  /** @default `<sources>/cassettes` */
  readonly cassettes?: string;
  /** Write a JUnit XML report here. */
  readonly junit?: string;
  /** Record one recent window per stream against the live API and report what changed. */
  readonly live: boolean;
  /** With --live: where the live recordings go. @default a new folder under the system's temp folder */
  readonly scratch?: string;
}

/** Replays every cassette of the source; exits 1 when one differs (or, with --live, on drift that changes the typed table). */
export async function testCommand(sourceName: string, options: TestOptions): Promise<void> {
  const { definition: source } = await findSource(options.sources, sourceName);
  if (options.stream !== undefined) selectStreams(source, options.stream);
  if (!options.live && hasStandIns(options)) throw new InputError('--base-url, --token-url and --origin go with --live: a replay talks to no server');
  const standIns = standInsFrom(options, source);
  const dir = options.cassettes ?? join(options.sources, 'cassettes');
  const { listCassettes, readCassetteFile, replayCassette } = await loadCassettes();
  const files = await listCassettes(dir, source.name, options.stream);
  if (files.length === 0) {
    throw new InputError(
      `no cassettes of ${source.name}${options.stream ? `.${options.stream}` : ''} in ${join(dir, source.name)}: record some first (apilake record ${source.name} --from <iso> --to <iso>)`,
    );
  }
  const cassettes: { file: string; cassette: Cassette }[] = [];
  for (const file of files) cassettes.push({ file, cassette: await readCassetteFile(file, source.name) });
  const out = new TerminalOutput(process.stdout);

  if (options.live) {
    const { cases, typedDrift } = await liveDrift(source, cassettes, { out, standIns, ...(options.scratch ? { scratch: options.scratch } : {}) });
    if (options.junit) await writeReport(options.junit, junitXml(`${source.name} (live)`, cases));
    if (typedDrift) process.exitCode = EXIT.windowsFailed;
    return;
  }

  out.line(`apilake test ${source.name}: ${plural(files.length, 'cassette')} in ${shownPath(join(dir, source.name))}`);
  const lake = await mkdtemp(join(tmpdir(), 'apilake-test-'));
  const cases: JunitCase[] = [];
  try {
    for (const { file, cassette } of cassettes) {
      const started = performance.now();
      const outcome = await replayCassette({ source, cassette, storage: new FsLakeStorage(lake) });
      const seconds = (performance.now() - started) / 1000;
      const window = describeWindow({ start: new Date(cassette.window.start), end: new Date(cassette.window.end) });
      cases.push({ classname: `${source.name}.${cassette.stream}`, name: window, seconds, failures: outcome.problems, file });
      const { records, pages } = outcome.landed ?? cassette.expected;
      if (outcome.problems.length === 0) out.line(`  ✓ ${cassette.stream} ${window} ${plural(records, 'record')}, ${plural(pages, 'page')} (${seconds.toFixed(2)} s)`);
      else {
        out.line(`  ✗ ${cassette.stream} ${window} (${shownPath(file)}):`);
        for (const problem of outcome.problems) out.line(`      ${problem}`, '        ');
      }
    }
  } finally {
    await rm(lake, { recursive: true, force: true });
  }
  const failed = cases.filter((c) => c.failures.length > 0).length;
  const seconds = cases.reduce((s, c) => s + c.seconds, 0);
  out.line(`${source.name}: ${cases.length - failed} passed, ${failed} failed (${seconds.toFixed(2)} s)`);
  if (options.junit) await writeReport(options.junit, junitXml(source.name, cases));
  if (failed > 0) process.exitCode = EXIT.windowsFailed;
}

async function writeReport(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}
