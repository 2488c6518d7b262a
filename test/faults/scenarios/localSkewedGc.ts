/**
 * `apilake gc` on machines whose clocks are hours off (seeded, ahead and behind), again and
 * again while runs — their own clocks hours off too, one of them killed — land the same windows.
 * Every file is younger than the horizon by the storage's clock throughout, so each of those gc
 * runs must delete nothing; afterwards, with the lake aged past the horizon, one more gc (its
 * clock behind) must leave no orphan.
 */

import { fileURLToPath } from 'node:url';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { ageFiles } from '../../support/ageFiles.js';
import { spawnApilake, type CliProcess } from '../../support/cliProcess.js';
import { between } from '../../support/seededRandom.js';
import { auditLake, sampleReaders } from '../lakeAudit.js';
import { expectation, hours, record, report, SECRET_ENV, sleep, startFaultApi, workspace, type ScenarioReport } from '../harness.js';

const HOUR_MS = 3_600_000;
const SKEW_CLOCK = fileURLToPath(new URL('../skewClock.mjs', import.meta.url));
const RUN_SKEWS = [-13 * HOUR_MS, 0, 13 * HOUR_MS];
const GC_SKEWS = [-25 * HOUR_MS, -13 * HOUR_MS, 13 * HOUR_MS, 25 * HOUR_MS];
const WINDOWS = hours(0, 4);
/** gc runs during one trial's live phase, at most. */
const MAX_GCS = 12;

/** `apilake` as a process on a machine whose clock is `skewMs` off. */
function skewedCli(ws: { dir: string }, args: readonly string[], skewMs: number): CliProcess {
  const nodeOptions = [process.env.NODE_OPTIONS, `--import=${SKEW_CLOCK}`].filter(Boolean).join(' ');
  return spawnApilake(args, { cwd: ws.dir, env: { ...SECRET_ENV, NO_COLOR: '1', NODE_OPTIONS: nodeOptions, APILAKE_TEST_CLOCK_SKEW_MS: String(skewMs) } });
}

/** The "parts deleted" and "writes aborted" cells of gc's row for the stream. */
function deletions(stdout: string): { parts: number; writes: number } | undefined {
  // A gc that runs before the first run made the lake has nothing to collect, and says so.
  if (/^apilake gc faults: no lake at .* yet \(nothing has landed there\), so nothing to collect$/m.test(stdout)) return { parts: 0, writes: 0 };
  const row = stdout.split('\n').find((line) => line.startsWith('items '));
  const cells = row?.split('│').map((c) => Number(c.trim()));
  return cells && Number.isInteger(cells[1]) && Number.isInteger(cells[2]) ? { parts: cells[1]!, writes: cells[2]! } : undefined;
}

const hoursOf = (ms: number) => `${ms / HOUR_MS > 0 ? '+' : ''}${ms / HOUR_MS} h`;

export async function localSkewedGc(random: () => number, trials: number): Promise<ScenarioReport> {
  const row = report(`gc with skewed clocks during live runs (${trials} trials)`);
  const api = await startFaultApi(20);
  const pick = <T>(values: readonly T[]) => values[between(random, 0, values.length - 1)]!;
  try {
    for (let trial = 0; trial < trials; trial++) {
      const ws = await workspace(api.url);
      const storage = new FsLakeStorage(ws.lake);
      const at = (h: number) => new Date(Date.UTC(2024, 0, 1, h)).toISOString();
      const runArgs = (from: number, to: number, extra: string[] = []) => ['run', 'faults', '--from', at(from), '--to', at(to), '--lake', ws.lake, '--sources', ws.sources, ...extra];
      const sampler = sampleReaders(storage, expectation(api, WINDOWS));
      const skews = { tick: pick(RUN_SKEWS), forced: pick(RUN_SKEWS), killed: pick(RUN_SKEWS) };
      const context = `trial ${trial} (runs ${hoursOf(skews.tick)}, forced ${hoursOf(skews.forced)}, killed ${hoursOf(skews.killed)})`;
      // A tick and a forced run of all windows, and a run killed mid-way that leaves a dead attempt.
      const tick = skewedCli(ws, runArgs(0, 4), skews.tick);
      const forced = skewedCli(ws, runArgs(0, 4, ['--force']), skews.forced);
      const killed = skewedCli(ws, runArgs(0, 4, ['--force']), skews.killed);
      let live = true;
      const ended = Promise.all([tick.done(), forced.done()]).finally(() => (live = false));
      void (async () => {
        await Promise.race([sleep(between(random, 300, 2_000)), killed.done()]);
        killed.child.kill('SIGKILL');
        row.faults++;
      })();
      // gc, again and again while the runs are live, each on a machine hours off.
      const gcs: string[] = [];
      while (live && gcs.length < MAX_GCS) {
        const skew = pick(GC_SKEWS);
        const gc = await skewedCli(ws, ['gc', 'faults', '--lake', ws.lake, '--sources', ws.sources], skew).done();
        row.faults++;
        gcs.push(hoursOf(skew));
        const deleted = deletions(gc.stdout);
        if (gc.code !== 0 || !deleted) row.violations.push(`${context}: gc ${hoursOf(skew)} exited ${gc.code}: ${(gc.stdout + gc.stderr).slice(-300)}`);
        else if (deleted.parts > 0 || deleted.writes > 0)
          row.violations.push(`${context}: gc ${hoursOf(skew)} deleted ${deleted.parts} parts and aborted ${deleted.writes} writes of attempts that wrote within the horizon`);
      }
      const [t, f] = await ended;
      await killed.done();
      const sampled = await sampler.stop();
      row.trials++;
      row.samples += sampled.samples;
      row.violations.push(...sampled.violations.map((v) => `${context}: ${v}`));
      for (const [name, result] of [
        ['tick', t],
        ['forced', f],
      ] as const) {
        if (result.code !== 0) row.violations.push(`${context}: the ${name} run exited ${result.code} with ${gcs.length} gc runs beside it (${gcs.join(', ')}): ${result.stdout.slice(-300)}`);
      }
      const audit = await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, outputs: [t.stdout, t.stderr, f.stdout, f.stderr] }));
      record(row, audit, context);
      row.committed += audit.committed;
      row.failed += audit.notCommitted;
      row.asExpected += audit.committed;
      // Hours later by the storage's clock, gc on a machine 13 h behind still collects every orphan.
      await ageFiles(ws.lake, ORPHAN_HORIZON_MS + 60_000);
      const final = await skewedCli(ws, ['gc', 'faults', '--lake', ws.lake, '--sources', ws.sources], -13 * HOUR_MS).done();
      if (final.code !== 0) row.violations.push(`${context}: the final gc exited ${final.code}: ${final.stdout.slice(-300)}`);
      record(row, await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, afterGc: true, outputs: [final.stdout, final.stderr] })), `${context}, after the final gc`);
      // A second collector finds nothing left (the first one removed it all, probes included).
      const again = await collectGarbage(storage, 'faults', { streams: ['items'] });
      if (again[0]!.deletedParts + again[0]!.abortedWrites > 0) row.violations.push(`${context}: a gc after the final one still found ${again[0]!.deletedParts} parts`);
    }
  } finally {
    await api.close();
  }
  return row;
}
