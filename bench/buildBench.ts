/**
 * Bundles the benchmark's child processes into dist/bench/ (esbuild, packages left to
 * node_modules), so each measured process runs plain JavaScript as the function and the built
 * CLI do: no TypeScript loader in its start-up, CPU or memory.
 */

import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The children, by name: `dist/bench/<name>.mjs`. */
export const BENCH_CHILDREN = ['landWindow', 'benchServer', 'ceiling', 'fetchLoop', 'gotLoop', 'importBundle', 'transportFloor', 'costLanding', 'durableWindow', 'rateLimitedServer'] as const;
/** Not a child: the Parquet encoder thread landWindow starts, which must sit beside it. */
const PARQUET_THREAD = `${ROOT}functions/tables/parquetThread.ts`;

/** Builds every child; returns the path of each. */
export async function buildBench(): Promise<Record<(typeof BENCH_CHILDREN)[number], string>> {
  const entries = Object.fromEntries(BENCH_CHILDREN.map((name) => [name, `${ROOT}bench/${name === 'fetchLoop' || name === 'gotLoop' ? `peers/${name}` : name}.ts`]));
  await build({
    entryPoints: { ...entries, parquetThread: PARQUET_THREAD },
    outdir: `${ROOT}dist/bench`,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    sourcemap: false,
    logLevel: 'warning',
  });
  return Object.fromEntries(BENCH_CHILDREN.map((name) => [name, `${ROOT}dist/bench/${name}.mjs`])) as Record<(typeof BENCH_CHILDREN)[number], string>;
}
