/**
 * Runs N {@link budgetWorker} processes at once against one API and one shared budget: bundles
 * the worker once (plain JavaScript starts in a fraction of a TypeScript loader's time, which
 * matters with 20 processes on 2 cores), starts every process, waits until all are warm, gives
 * them one start time, and collects their reports.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { WorkerConfig, WorkerReport } from './budgetWorker.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUNDLE = `${ROOT}/dist/test/budgetWorker.mjs`;
let built: Promise<string> | undefined;

/** The bundled worker script (built once per process). */
export function budgetWorkerScript(): Promise<string> {
  built ??= build({
    entryPoints: [`${ROOT}/test/support/budgetWorker.ts`],
    outfile: BUNDLE,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  }).then(() => BUNDLE);
  return built;
}

/** A run of workers that have all started. */
export interface WorkerRun {
  /** The common start time (epoch ms). */
  readonly startAt: number;
  /** Resolves with every worker's report, in worker order. */
  readonly reports: Promise<WorkerReport[]>;
  /** The worker processes, e.g. to kill one. */
  readonly children: readonly ChildProcess[];
}

/**
 * Starts one worker per config; resolves once all of them are warm and have been given the
 * start time (`leadMs` after the last one is ready).
 */
export async function startWorkers(configs: readonly WorkerConfig[], leadMs = 300): Promise<WorkerRun> {
  const script = await budgetWorkerScript();
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const reports: Promise<WorkerReport>[] = [];
  for (const config of configs) {
    const child = spawn(process.execPath, [script, JSON.stringify(config)], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
    children.push(child);
    let out = '';
    let err = '';
    ready.push(
      new Promise((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.startsWith('ready\n')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`worker ${config.worker} exited with ${code} before it was ready: ${err.slice(-1000)}`)));
      }),
    );
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    reports.push(
      new Promise((resolve, reject) =>
        child.once('close', (code) => {
          const last = out.trim().split('\n').at(-1) ?? '';
          try {
            resolve(JSON.parse(last) as WorkerReport);
          } catch {
            reject(new Error(`worker ${config.worker} exited with ${code} without a report: ${err.slice(-2000)}`));
          }
        }),
      ),
    );
  }
  try {
    await Promise.all(ready);
  } catch (error) {
    for (const child of children) child.kill();
    throw error;
  }
  const startAt = Date.now() + leadMs;
  for (const child of children) child.stdin!.write(`${startAt}\n`);
  return { startAt, reports: Promise.all(reports), children };
}
