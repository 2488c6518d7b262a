/**
 * Start-up time of the `apilake` command against a bare `node -e ''`: wall time of N runs of
 * each, interleaved round-robin so a burst of load on the machine hits every command alike.
 * `npx tsx bench/startup.ts [runs]` prints a table; `npm run bench` uses {@link StartupBench}.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_QUERIES } from '../cli/commands/demo.js';
import { median } from './children.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'apilake.mjs');

/** The commands timed, the baseline first. */
export const STARTUP_COMMANDS = ['node', 'help', 'version', 'query'] as const;
export type StartupCommand = (typeof STARTUP_COMMANDS)[number];

/** What each command is, for tables. */
export const STARTUP_LABELS: Record<StartupCommand, string> = {
  node: "node -e ''",
  help: 'apilake --help',
  version: 'apilake --version',
  query: 'apilake query (demo lake, a join of two tables)',
};

/** A demo lake to query, and the commands that time start-up against it. */
export class StartupBench {
  private readonly lake = mkdtempSync(join(tmpdir(), 'apilake-startup-'));
  private readonly args: Record<StartupCommand, string[]>;

  constructor() {
    // The bin rebuilds dist/cli when a source changed: do it (and the demo lake) before timing anything.
    const demo = spawnSync(process.execPath, [BIN, 'demo', '--lake', this.lake], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    if (demo.status !== 0) throw new Error(`apilake demo failed: ${demo.stderr}`);
    this.args = {
      node: ['-e', ''],
      help: [BIN, '--help'],
      version: [BIN, '--version'],
      // The demo's tables are typed by examples/demo_shop.yaml, as the demo's own hint says.
      query: [BIN, 'query', DEMO_QUERIES[1]!.sql, '--sources', join(ROOT, 'examples'), '--lake', this.lake],
    };
  }

  /** Runs every command `runs` times, interleaved; wall milliseconds of each run, by command. */
  measure(runs: number): Record<StartupCommand, number[]> {
    const samples = Object.fromEntries(STARTUP_COMMANDS.map((c) => [c, [] as number[]])) as Record<StartupCommand, number[]>;
    for (let run = 0; run < runs; run++) {
      for (const command of STARTUP_COMMANDS) {
        const started = process.hrtime.bigint();
        const result = spawnSync(process.execPath, this.args[command], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, NO_COLOR: '1' } });
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        if (result.status !== 0) throw new Error(`${STARTUP_LABELS[command]} exited with ${result.status}`);
        samples[command].push(ms);
      }
    }
    return samples;
  }

  close(): void {
    rmSync(this.lake, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const runs = Number(process.argv[2] ?? 15);
  const bench = new StartupBench();
  try {
    const samples = bench.measure(runs);
    const base = median(samples.node);
    console.log(`start-up, median of ${runs} runs each (interleaved), Node ${process.version}`);
    for (const command of STARTUP_COMMANDS) {
      const ms = median(samples[command]);
      console.log(`${STARTUP_LABELS[command].padEnd(48)} ${ms.toFixed(0).padStart(5)} ms  ${command === 'node' ? '' : `+${(ms - base).toFixed(0)} ms over node -e ''`}`);
    }
  } finally {
    bench.close();
  }
}
