/**
 * `apilake run --bucket` as a user runs it, against moto behind the fault proxy, with S3 calls
 * stalled at seeded random points (a call never answered, answered only after S3 applied it and
 * then silent, or a body that stops half-way), a 1 s idle timeout: every run ends within a bound,
 * a failure names the stall, committed windows are never lost (also under a forced re-run that
 * stalls), nothing uncommitted is visible, and after a clean re-run and gc the lake is exact.
 */

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { collectGarbage } from '../../../functions/sink/collectGarbage.js';
import { ORPHAN_HORIZON_MS } from '../../../functions/sink/commitProtocol.js';
import { S3LakeStorage } from '../../../functions/sink/S3LakeStorage.js';
import { openUploads } from '../../support/awsServers.js';
import { spawnApilake } from '../../support/cliProcess.js';
import { MOTO_AWS, startMoto } from '../../support/motoServer.js';
import { startS3FaultProxy, type S3Call, type S3Fault } from '../../support/s3FaultProxy.js';
import { between } from '../../support/seededRandom.js';
import { auditLake } from '../lakeAudit.js';
import { expectation, hours, record, report, SECRET_ENV, startFaultApi, workspace, type ScenarioReport } from '../harness.js';

const WINDOWS = hours(0, 2);
const IDLE_MS = 1_000;
/**
 * Every stalled attempt costs one idle timeout; a run has at most 4 × 3 of them, plus the
 * commit's read-back (5 s), its own work and the CLI's start on a loaded machine.
 */
const RUN_BOUND_MS = 60_000;
/** A run still going after this is hung: it is killed and reported. */
const HUNG_MS = 180_000;

/** What can stall, how, and about how many such calls a run of the two windows makes (the points to strike at). */
const TARGETS: readonly (readonly [string, (c: S3Call) => boolean, readonly S3Fault['kind'][], number])[] = [
  ['part PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('raw/'), ['stall', 'stall-after'], 24],
  ['Parquet PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('curated/'), ['stall', 'stall-after'], 2],
  ['commit PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('manifests/'), ['stall', 'stall-after'], 2],
  ['symlink PutObject', (c) => c.operation === 'PutObject' && c.key.startsWith('symlinks/'), ['stall', 'stall-after'], 4],
  ['ListObjectsV2', (c) => c.operation === 'ListObjectsV2', ['stall'], 38],
  ['GetObject', (c) => c.operation === 'GetObject', ['stall', 'stall-body'], 24],
  ['DeleteObjects', (c) => c.operation === 'DeleteObjects', ['stall', 'stall-after'], 2],
];

export async function cliS3Stalls(random: () => number, rounds: number): Promise<ScenarioReport> {
  const row = report(`CLI --bucket: S3 calls stalled at random points (${rounds} rounds)`);
  const [moto, api] = await Promise.all([startMoto(), startFaultApi(5)]);
  const proxy = await startS3FaultProxy(moto.endpoint);
  const s3 = new S3Client({ ...MOTO_AWS, endpoint: moto.endpoint, forcePathStyle: true });
  const ws = await workspace(api.url);
  const env = { ...moto.env, ...SECRET_ENV, AWS_ENDPOINT_URL_S3: proxy.endpoint, APILAKE_S3_IDLE_TIMEOUT_MS: String(IDLE_MS), NO_COLOR: '1' };
  const at = (h: number) => new Date(Date.UTC(2024, 0, 1, h)).toISOString();

  /** One CLI run over the windows; a run past the bound is a violation, a hung one is killed. */
  const run = async (bucket: string, context: string, extra: string[] = []) => {
    const started = Date.now();
    const cli = spawnApilake(['run', 'faults', '--from', at(0), '--to', at(WINDOWS.length), '--bucket', bucket, '--sources', ws.sources, ...extra], { cwd: ws.dir, env });
    const hung = setTimeout(() => cli.child.kill('SIGKILL'), HUNG_MS);
    const result = await cli.done();
    clearTimeout(hung);
    const ms = Date.now() - started;
    if (ms > RUN_BOUND_MS) row.violations.push(`${context}: the run took ${ms} ms, past the ${RUN_BOUND_MS} ms bound${result.code === null ? ' (hung: killed)' : ''}`);
    return { ...result, ms };
  };

  /** Stalls 1 to 3 kinds of call, each at a random point of the run, for 1 to 4 attempts. */
  const injectStalls = (): string[] => {
    const injected: string[] = [];
    for (let n = between(random, 1, 3); n > 0; n--) {
      const [label, match, kinds, calls] = TARGETS[between(random, 0, TARGETS.length - 1)]!;
      const kind = kinds[between(random, 0, kinds.length - 1)]!;
      const skip = between(random, 0, calls - 1);
      const times = between(random, 1, 4); // 3 or more outlast the SDK's attempts: that call fails
      proxy.inject({ match, fault: { kind } as S3Fault, times, skip });
      injected.push(`${kind} ×${times} on ${label} after ${skip}`);
    }
    return injected;
  };

  try {
    for (let round = 0; round < rounds; round++) {
      const bucket = `cli-stalls-${round}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const observer = new S3LakeStorage({ bucket, client: s3 });
      const outputs: string[] = [];

      // A run into an empty bucket, then a forced run over what is committed, each with stalls.
      for (const [phase, extra] of [
        ['first run', []],
        ['forced run', ['--force']],
      ] as const) {
        proxy.clear();
        const before = proxy.faultsInjected();
        const injected = injectStalls();
        const context = `round ${round} ${phase} (${injected.join(', ')})`;
        const result = await run(bucket, context, [...extra]);
        outputs.push(result.stdout, result.stderr);
        row.trials++;
        row.faults += proxy.faultsInjected() - before;
        if (result.code !== 0 && result.code !== 1) row.violations.push(`${context}: exit ${result.code}, expected 0 or 1: ${result.stderr.slice(0, 300)}`);
        if (result.code === 1 && !/stalled|could not connect/.test(result.stdout + result.stderr))
          row.violations.push(`${context}: a window failed without naming the stall: ${result.stdout.slice(-400)}`);
        row.failed += (result.stdout.match(/ FAILED after /g) ?? []).length;
        // Committed windows exact, nothing uncommitted visible; after the first commit, nothing committed lost.
        const audit = await auditLake(observer, expectation(api, WINDOWS, { mustCommit: phase === 'forced run', outputs: [result.stdout, result.stderr] }));
        record(row, audit, context);
        row.asExpected += audit.committed + audit.notCommitted;
        if (phase === 'first run') {
          proxy.clear();
          const clean = await run(bucket, `round ${round} clean re-run`);
          outputs.push(clean.stdout, clean.stderr);
          if (clean.code !== 0) row.violations.push(`round ${round}: the clean re-run exited ${clean.code}: ${clean.stdout.slice(-300)}`);
        }
      }

      proxy.clear();
      // Hours later at S3 (the proxy dates what passed through it): every file so far is past the horizon.
      proxy.advanceClock(ORPHAN_HORIZON_MS + 60_000);
      await collectGarbage(new S3LakeStorage({ bucket, client: new S3Client({ ...MOTO_AWS, endpoint: proxy.endpoint, forcePathStyle: true }) }), 'faults', { streams: ['items'] });
      const final = await auditLake(observer, expectation(api, WINDOWS, { mustCommit: true, afterGc: true, outputs }));
      record(row, final, `round ${round}, after gc`);
      row.committed += final.committed;
      if ((await openUploads(s3, bucket)).length > 0) row.violations.push(`round ${round}: multipart uploads left open`);
    }
  } finally {
    s3.destroy();
    await proxy.close();
    await Promise.all([moto.stop(), api.close()]);
  }
  return row;
}
