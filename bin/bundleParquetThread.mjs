/**
 * Writes the Parquet encoder thread's script, `parquetThread.mjs`, into a function bundle's
 * folder: `node bin/bundleParquetThread.mjs <dir>`. The CDK app runs it after esbuild bundled the
 * handler (infra/constructs/SourceIngestion.ts, `commandHooks.afterBundling`), because the
 * handler's encoder thread (functions/tables/encoderThread.ts) starts from that file, beside `index.mjs`.
 * Same settings as the handler's bundle: ESM, node22, minified, every package bundled.
 */

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const outDir = process.argv[2];
if (!outDir) {
  process.stderr.write('usage: node bin/bundleParquetThread.mjs <bundle folder>\n');
  process.exit(2);
}
await build({
  absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
  entryPoints: ['functions/tables/parquetThread.ts'],
  outfile: join(outDir, 'parquetThread.mjs'),
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  sourcemap: true,
  logLevel: 'warning',
});
