/**
 * `apilake run` stopped by SIGTERM (what containers, systemd and CI runners send) at seeded random
 * points: it exits 143 with its summary, and leaves a lake as clean as after gc — committed
 * windows whole, no part of the stopped window, no temp file; the re-run lands the rest once.
 */

import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { listFiles } from '../../support/lakeReader.js';
import type { TestApi } from '../../support/testApi.js';
import { between } from '../../support/seededRandom.js';
import { auditLake } from '../lakeAudit.js';
import { expectation, hours, record, report, runCli, sleep, startFaultApi, workspace, type ScenarioReport } from '../harness.js';

const WINDOWS = hours(0, 2); // 2 windows × 12 pages of 5 records
const PAGES = WINDOWS.length * 12;
const SUMMARY = /^faults: \d+ committed, \d+ skipped, \d+ failed(, \d+ interrupted)?(, \d+ not started)? · /m;

/** Resolves once the API has received `count` requests in all. */
function requests(api: TestApi, count: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => (api.requests.length >= count ? resolve() : setTimeout(check, 2));
    check();
  });
}

export async function localSigterm(random: () => number, trials: number): Promise<ScenarioReport> {
  const row = report(`SIGTERM at random points (${trials} trials), re-run`);
  const api = await startFaultApi(10);
  const outcomes = { stopped: 0, finished: 0 };
  try {
    for (let trial = 0; trial < trials; trial++) {
      const ws = await workspace(api.url);
      const storage = new FsLakeStorage(ws.lake);
      // The point to strike: once the API has received the page-th request of this run, plus a few
      // ms, so the signal lands while a page is in flight, while it is being written, or past the last.
      const page = between(random, 1, PAGES);
      const extraMs = between(random, 0, 30);
      const seen = api.requests.length;
      const cli = runCli(ws, ws.sources, 0, WINDOWS.length);
      // From its first line on, the run handles signals.
      await cli.waitForLines(/^apilake run faults/, 1).catch(() => undefined);
      await Promise.race([requests(api, seen + page), cli.done()]);
      await sleep(extraMs);
      cli.child.kill('SIGTERM');
      const stopped = await cli.done();
      const context = `trial ${trial} (SIGTERM ${extraMs} ms after request ${page} of ${PAGES})`;
      row.trials++;
      row.faults++;
      if (stopped.code === 143) {
        outcomes.stopped++;
        if (!stopped.stderr.includes('interrupted by SIGTERM: finishing cleanly')) row.violations.push(`${context}: no notice of the signal on stderr: ${stopped.stderr.slice(0, 300)}`);
        if (!SUMMARY.test(stopped.stdout)) row.violations.push(`${context}: no summary line: ${stopped.stdout.slice(-300)}`);
      } else if (stopped.code === 0 || (stopped.code === null && cli.child.signalCode === 'SIGTERM' && SUMMARY.test(stopped.stdout))) {
        outcomes.finished++; // done before the signal, or the signal came while the process was exiting
      } else {
        row.violations.push(`${context}: exit ${stopped.code}, expected 143: ${stopped.stderr.slice(0, 300)}`);
      }
      // As clean as after gc: the stopped run removed what it wrote, and committed windows are whole.
      const afterStop = await auditLake(storage, expectation(api, WINDOWS, { afterGc: true, outputs: [stopped.stdout, stopped.stderr] }));
      record(row, afterStop, context);
      row.failed += afterStop.notCommitted; // stopped before their commit, and invisible
      const temps = (await listFiles(ws.lake)).filter((f) => f.split('/').pop()!.startsWith('.'));
      if (temps.length > 0) row.violations.push(`${context}: temp files left: ${temps.join(', ')}`);
      // The re-run lands what is missing, exactly once.
      const rerun = await runCli(ws, ws.sources, 0, WINDOWS.length).done();
      if (rerun.code !== 0) row.violations.push(`${context}: the re-run exited ${rerun.code}: ${rerun.stderr.slice(0, 300)}`);
      const final = await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, afterGc: true, outputs: [rerun.stdout, rerun.stderr] }));
      record(row, final, `${context}, after the re-run`);
      row.committed += final.committed;
      row.asExpected += final.committed;
    }
  } finally {
    await api.close();
  }
  if (outcomes.stopped < trials / 2)
    row.violations.push(`only ${outcomes.stopped} of ${trials} runs were stopped mid-way (${outcomes.finished} finished first): the signal comes too late to test anything`);
  return row;
}
