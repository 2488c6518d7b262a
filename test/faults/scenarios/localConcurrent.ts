/**
 * Two CLI runs of the same windows at once — the second forced — in every combination of
 * succeed, fail, interrupt (Ctrl-C) and kill, with readers sampling all along.
 */

import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { FsLakeStorage } from '../../../functions/sink/FsLakeStorage.js';
import { ageFiles } from '../../support/ageFiles.js';
import type { CliProcess } from '../../support/cliProcess.js';
import { auditLake, sampleReaders } from '../lakeAudit.js';
import { expectation, hours, record, report, runCli, sleep, startFaultApi, workspace, type ScenarioReport } from '../harness.js';
import { between } from '../../support/seededRandom.js';

const WINDOWS = hours(0, 3);
type Ending = 'succeed' | 'fail' | 'interrupt' | 'kill';
const ENDINGS: readonly Ending[] = ['succeed', 'fail', 'interrupt', 'kill'];

export async function localConcurrent(random: () => number): Promise<ScenarioReport> {
  const row = report('two runs at once (tick + --force), all endings');
  const api = await startFaultApi(15);
  try {
    for (const first of ENDINGS) {
      for (const second of ENDINGS) {
        const ws = await workspace(api.url);
        const storage = new FsLakeStorage(ws.lake);
        const context = `first ${first}, forced second ${second}`;
        // A run that must fail gets its own query parameter, which the API then answers with 400s.
        const variantFor = (ending: Ending, tag: string) => (ending === 'fail' ? (api.failWhen((u) => u.searchParams.get('run') === tag, { kind: 'status', status: 400 }, 1_000), true) : false);
        const sampler = sampleReaders(storage, expectation(api, WINDOWS));
        const a = runCli(ws, variantFor(first, 'b') ? ws.variant : ws.sources, 0, 3);
        await sleep(between(random, 0, 400));
        const b = runCli(ws, variantFor(second, 'b') ? ws.variant : ws.sources, 0, 3, ['--force']);
        const stop = async (cli: CliProcess, ending: Ending) => {
          if (ending !== 'interrupt' && ending !== 'kill') return;
          await Promise.race([sleep(between(random, 600, 2_500)), cli.done()]);
          cli.child.kill(ending === 'kill' ? 'SIGKILL' : 'SIGINT');
          row.faults++;
        };
        await Promise.all([stop(a, first), stop(b, second)]);
        const [ra, rb] = await Promise.all([a.done(), b.done()]);
        const sampled = await sampler.stop();
        row.trials++;
        row.samples += sampled.samples;
        row.violations.push(...sampled.violations.map((v) => `${context}: ${v}`));
        for (const [ending, result] of [
          [first, ra],
          [second, rb],
        ] as const) {
          if (ending === 'succeed' && result.code !== 0) row.violations.push(`${context}: a run that should succeed exited ${result.code}: ${result.stderr.slice(0, 200)}`);
          if (ending === 'fail') row.faults++;
          if (ending === 'fail' && result.code !== 1) row.violations.push(`${context}: a failing run exited ${result.code}`);
        }
        const audit = await auditLake(storage, expectation(api, WINDOWS, { outputs: [ra.stdout, ra.stderr, rb.stdout, rb.stderr], mustCommit: first === 'succeed' || second === 'succeed' }));
        record(row, audit, context);
        row.committed += audit.committed;
        row.failed += audit.notCommitted;
        row.asExpected += audit.committed + audit.notCommitted;
        // Whatever happened, a plain re-run and gc leave each window exactly once.
        const rerun = await runCli(ws, ws.sources, 0, 3).done();
        if (rerun.code !== 0) row.violations.push(`${context}: re-run exited ${rerun.code}`);
        // Hours later by the storage's clock: every file of this trial is past the horizon.
        await ageFiles(ws.lake, ORPHAN_HORIZON_MS + 60_000);
        await collectGarbage(storage, 'faults', { streams: ['items'] });
        record(row, await auditLake(storage, expectation(api, WINDOWS, { mustCommit: true, afterGc: true })), `${context}, after the re-run and gc`);
      }
    }
  } finally {
    await api.close();
  }
  return row;
}
