/**
 * Cold start of the deployed function: synthesizes the CDK app (real esbuild bundling, as
 * `cdk deploy` uploads it) and measures module init of the bundle in fresh processes, as is and
 * with `--enable-source-maps` (the cost of loading the source map at init), interleaved.
 */

import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App } from 'aws-cdk-lib';
import { loadSources } from '../functions/config/loadSources.js';
import { ApilakeStack } from '../infra/stacks/ApilakeStack.js';
import { runJson } from './children.js';

/** The bundle of one function of the app. */
export interface FunctionBundle {
  readonly path: string;
  readonly bytes: number;
  readonly mapBytes: number;
  /** The function's memory (MB) and architecture, as the template deploys it. */
  readonly memoryMb: number;
  readonly architecture: string;
}

/** Synthesizes the app with the example `demo_shop` source and returns its function's bundle and configuration. */
export async function synthFunctionBundle(): Promise<FunctionBundle> {
  const sources = (await loadSources(fileURLToPath(new URL('../examples', import.meta.url)))).map((s) => s.definition).filter((s) => s.name === 'demo_shop');
  const outdir = await mkdtemp(join(tmpdir(), 'apilake-bench-cdk-'));
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
  new ApilakeStack(app, 'apilake-bench', { stage: 'bench', sources });
  app.synth();
  const template = JSON.parse(await readFile(join(outdir, 'apilake-bench.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Metadata?: Record<string, string>; Properties?: { MemorySize?: number; Architectures?: string[] } }>;
  };
  const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path'])!;
  const dir = join(outdir, fn.Metadata!['aws:asset:path']!);
  const path = join(dir, 'index.mjs');
  return {
    path,
    bytes: (await stat(path)).size,
    mapBytes: (await stat(`${path}.map`)).size,
    // Lambda's defaults when the template leaves them out: 128 MB, x86_64.
    memoryMb: fn.Properties?.MemorySize ?? 128,
    architecture: fn.Properties?.Architectures?.[0] ?? 'x86_64',
  };
}

/** One fresh process importing the bundle. */
export interface InitSample {
  readonly initMs: number;
  readonly errorStackMs: number;
  readonly mapped: boolean;
}

/** Module init in a fresh process, with `flags` given to node. */
export function measureInit(importer: string, bundle: string, flags: readonly string[] = []): Promise<InitSample> {
  return runJson<InitSample>(process.execPath, [...flags, importer, bundle], { env: { ...process.env, POWERTOOLS_DEV: '', AWS_REGION: 'us-east-1' } });
}
