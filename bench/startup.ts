/**
 * Start-up time of the `apilake` command against a bare `node -e ''`: median wall time of N runs
 * of each, interleaved round-robin so a burst of load on the machine hits every command alike.
 * `npx tsx bench/startup.ts [runs]` prints a table; {@link measureStartup} returns the figures
 * for `npm run bench`.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'apilake.mjs');

/** One measured command. */
export interface StartupFigure {
  readonly name: string;
  readonly medianMs: number;
  /** Median minus the baseline's median (`node -e ''`). */
  readonly overBaselineMs: number;
  readonly runs: number;
}

/** Runs every command `runs` times and returns the medians, the baseline first. */
export function measureStartup(runs = 15): StartupFigure[] {
  const lake = mkdtempSync(join(tmpdir(), 'apilake-startup-'));
  // The bin rebuilds dist/cli when a source changed; do it once before timing anything.
  spawnSync(process.execPath, [BIN, '--version'], { cwd: ROOT, stdio: 'ignore' });
  const commands: { name: string; args: string[] }[] = [
    { name: "node -e ''", args: ['-e', ''] },
    { name: 'apilake --help', args: [BIN, '--help'] },
    { name: 'apilake --version', args: [BIN, '--version'] },
    { name: 'apilake query "select 1" (DuckDB)', args: [BIN, 'query', 'select 1', '--lake', lake] },
    { name: 'tsx cli/main.ts --help (before the build step)', args: ['--import', 'tsx', join(ROOT, 'cli', 'main.ts'), '--help'] },
  ];
  const samples = commands.map(() => [] as number[]);
  try {
    for (let run = 0; run < runs; run++) {
      commands.forEach((command, i) => {
        const started = process.hrtime.bigint();
        const result = spawnSync(process.execPath, command.args, { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (result.status !== 0) throw new Error(`${command.name} exited with ${result.status}`);
        samples[i]!.push(ms);
      });
    }
  } finally {
    rmSync(lake, { recursive: true, force: true });
  }
  const medians = samples.map(median);
  return commands.map((command, i) => ({ name: command.name, medianMs: medians[i]!, overBaselineMs: medians[i]! - medians[0]!, runs }));
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 15);
  const figures = measureStartup(runs);
  const width = Math.max(...figures.map((f) => f.name.length));
  console.log(`start-up, median of ${runs} runs each (interleaved), Node ${process.version}`);
  for (const f of figures) console.log(`${f.name.padEnd(width)}  ${f.medianMs.toFixed(0).padStart(5)} ms  ${f.name.startsWith('node -e') ? '' : `+${f.overBaselineMs.toFixed(0)} ms over node -e ''`}`);
}
