/**
 * `npm run test:faults`: the fault-injection suite. Seeded — the seed is printed, and
 * `FAULT_SEED=<n> npm run test:faults` replays a run; `npm run test:faults -- <name…>` runs only
 * the scenarios whose name contains one of the words. Prints a table and exits 1 on any
 * invariant violation (see lakeAudit.ts for the invariants). `npm run test:faults:node22` runs it on
 * Node 22, Lambda's runtime (docs/development.md).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTable } from '../../cli/format.js';
import type { ScenarioReport } from './harness.js';
import { seededRandom } from '../support/seededRandom.js';
import { cursorUnits } from './scenarios/cursorUnits.js';
import { cliS3Stalls } from './scenarios/cliS3Stalls.js';
import { durableJobFile } from './scenarios/durableJobFile.js';
import { durableJobSlices } from './scenarios/durableJobSlices.js';
import { durableSlices } from './scenarios/durableSlices.js';
import { lambdaScenarios } from './scenarios/lambda.js';
import { localConcurrent } from './scenarios/localConcurrent.js';
import { localCrashes } from './scenarios/localCrashes.js';
import { localDisk } from './scenarios/localDisk.js';
import { localSkewedGc } from './scenarios/localSkewedGc.js';
import { localSigterm } from './scenarios/localSigterm.js';

// The suite runs on the machine's Node; the SDK's notice about future Node versions is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Every temp folder of the suite and of the processes it starts goes under one folder of this run, removed at exit.
const tempRoot = mkdtempSync(join(tmpdir(), 'apilake-faults-run-'));
process.env.TMPDIR = tempRoot;
process.on('exit', () => rmSync(tempRoot, { recursive: true, force: true }));

const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 2 ** 31));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const KILL_TRIALS = Number(process.env.FAULT_KILL_TRIALS ?? 20);
const SIGTERM_TRIALS = Number(process.env.FAULT_SIGTERM_TRIALS ?? 20);
const S3_ROUNDS = Number(process.env.FAULT_S3_ROUNDS ?? 6);
const SKEW_TRIALS = Number(process.env.FAULT_SKEW_TRIALS ?? 3);
const CLI_STALL_ROUNDS = Number(process.env.FAULT_CLI_STALL_ROUNDS ?? 4);
const SLICE_KILL_TRIALS = Number(process.env.FAULT_SLICE_KILL_TRIALS ?? 20);
const SLICE_RACE_TRIALS = Number(process.env.FAULT_SLICE_RACE_TRIALS ?? 2);
const JOB_SLICE_TRIALS = Number(process.env.FAULT_JOB_SLICE_TRIALS ?? 24);
const JOB_FILE_TRIALS = Number(process.env.FAULT_JOB_FILE_TRIALS ?? 8);

// The npm script that started the suite (test:faults, or test:faults:node22 on Node 22) replays it.
const script = process.env.npm_lifecycle_event?.startsWith('test:faults') ? process.env.npm_lifecycle_event : 'test:faults';
console.log(`fault suite on Node ${process.version}, seed ${seed} (replay: FAULT_SEED=${seed} npm run ${script})`);
const random = seededRandom(seed);
const started = Date.now();
const scenarios: [string, () => Promise<ScenarioReport | ScenarioReport[]>][] = [
  ['kill', () => localCrashes(random, KILL_TRIALS)],
  ['sigterm', () => localSigterm(random, SIGTERM_TRIALS)],
  ['concurrent', () => localConcurrent(random)],
  ['disk', () => localDisk()],
  ['skewed gc', () => localSkewedGc(random, SKEW_TRIALS)],
  ['lambda', () => lambdaScenarios(random, S3_ROUNDS)],
  ['units', () => cursorUnits(random)],
  ['cli-s3-stalls', () => cliS3Stalls(random, CLI_STALL_ROUNDS)],
  ['durable-slices', () => durableSlices(random, SLICE_KILL_TRIALS, SLICE_RACE_TRIALS)],
  ['durable-job-slices', () => durableJobSlices(random, JOB_SLICE_TRIALS)],
  ['durable-job-file', () => durableJobFile(random, JOB_FILE_TRIALS)],
];

const rows: ScenarioReport[] = [];
let crashed = false;
for (const [name, run] of scenarios) {
  if (only.length > 0 && !only.some((word) => name.includes(word))) continue;
  const t0 = Date.now();
  process.stdout.write(`  ${name} …`);
  try {
    const result = await run();
    rows.push(...[result].flat());
    process.stdout.write(` ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  } catch (error) {
    crashed = true;
    process.stdout.write(` crashed\n${(error as Error).stack}\n`);
  }
}

console.log(
  `\n${formatTable(
    ['scenario', 'trials', 'faults injected', 'windows committed', 'windows failed', 'as expected', 'records checked', 'reader samples', 'violations'],
    rows.map((r) => [r.name, r.trials, r.faults, r.committed, r.failed, r.asExpected, r.records.toLocaleString('en'), r.samples, r.violations.length]),
  )}`,
);
const violations = rows.flatMap((r) => r.violations.map((v) => `${r.name}: ${v}`));
for (const v of violations.slice(0, 50)) console.log(`  ✗ ${v}`);
if (violations.length > 50) console.log(`  … and ${violations.length - 50} more`);
console.log(`\n${violations.length} invariant violations in ${((Date.now() - started) / 1000).toFixed(0)} s (seed ${seed})`);
process.exit(violations.length > 0 || crashed ? 1 : 0);
