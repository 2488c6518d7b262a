/**
 * The CLI killed at seeded random moments during multi-page windows (SIGKILL, SIGTERM, a double
 * Ctrl-C), readers sampling the lake all along; then a re-run and gc.
 */

import { runLocalQuery } from '../../../cli/query/runLocalQuery.js';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { ageFiles } from '../../support/ageFiles.js';
import { auditLake, sampleReaders } from '../lakeAudit.js';
import { expectation, hours, itemsOf, record, report, runCli, SECRET, sleep, startFaultApi, workspace, type ScenarioReport } from '../harness.js';
import { between } from '../../support/seededRandom.js';

const WINDOWS = hours(0, 3); // 3 windows × 12 pages of 5 records

/** Asks DuckDB (what `apilake query` runs) for per-window counts: each must be the whole window. */
async function duckdbSeesWholeWindows(lake: string, expectedCount: (start: string) => number): Promise<string | undefined> {
  let rows: unknown[][];
  try {
    rows = (await runLocalQuery(`SELECT _window_start, count(*) AS n, count(DISTINCT data->>'id') AS ids FROM faults_items GROUP BY 1`, lake)).rows;
  } catch {
    return undefined; // nothing committed yet (no table), or a file replaced under the query: a reader retries
  }
  for (const [start, n, ids] of rows) {
    const want = expectedCount(String(start));
    if (Number(n) !== want || Number(ids) !== want) return `apilake query saw ${String(n)} rows (${String(ids)} ids) of window ${String(start)}, expected ${want}`;
  }
  return undefined;
}

export async function localCrashes(random: () => number, trials: number): Promise<ScenarioReport> {
  const row = report(`kill at random points (${trials} trials), re-run`);
  const api = await startFaultApi(15);
  const items = itemsOf(api);
  const countOf = (start: string) => items({ start: new Date(start), end: new Date(Date.parse(start) + 3_600_000) }).length;
  try {
    for (let trial = 0; trial < trials; trial++) {
      const ws = await workspace(api.url);
      const storage = new FsLakeStorage(ws.lake);
      const how = trial % 5 === 3 ? 'SIGTERM' : trial % 5 === 4 ? 'double Ctrl-C' : 'SIGKILL';
      const sampler = sampleReaders(storage, expectation(api, WINDOWS), () => duckdbSeesWholeWindows(ws.lake, countOf));
      const cli = runCli(ws, ws.sources, 0, 3);
      const delay = between(random, 300, 3_500);
      await Promise.race([sleep(delay), cli.done()]);
      if (how === 'SIGKILL') cli.child.kill('SIGKILL');
      else if (how === 'SIGTERM') cli.child.kill('SIGTERM');
      else {
        cli.child.kill('SIGINT');
        await sleep(between(random, 0, 100));
        cli.child.kill('SIGINT');
      }
      const killed = await cli.done();
      const sampled = await sampler.stop();
      row.trials++;
      row.faults++;
      row.samples += sampled.samples;
      row.violations.push(...sampled.violations.map((v) => `trial ${trial} (${how} at ${delay} ms): ${v}`));
      const context = `trial ${trial} (${how} at ${delay} ms)`;
      const afterKill = await auditLake(storage, expectation(api, WINDOWS, { outputs: [killed.stdout, killed.stderr] }));
      record(row, afterKill, context);
      // The re-run lands what is missing, exactly once; gc past the horizon leaves nothing behind.
      const rerun = await runCli(ws, ws.sources, 0, 3).done();
      if (rerun.code !== 0) row.violations.push(`${context}: the re-run exited ${rerun.code}: ${rerun.stderr.slice(0, 300)}`);
      // Hours later by the storage's clock: every file of this trial is past the horizon.
      await ageFiles(ws.lake, ORPHAN_HORIZON_MS + 60_000);
      await collectGarbage(storage, 'faults', { streams: ['items'] });
      const final = await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, afterGc: true, outputs: [rerun.stdout, rerun.stderr] }));
      record(row, final, `${context}, after the re-run and gc`);
      row.committed += final.committed;
      row.asExpected += final.committed;
      if (killed.stdout.includes(SECRET) || killed.stderr.includes(SECRET)) row.violations.push(`${context}: secret printed`);
    }
  } finally {
    await api.close();
  }
  return row;
}
