/**
 * Child-process entry: module init of the function bundle, as Lambda's init phase runs it: the
 * time to import it in a fresh process. Then the error path: an invocation that fails at once
 * (no configuration) and the time to format that error's stack, where source maps get loaded.
 * Prints `{initMs, errorStackMs, mapped}`.
 */

import { pathToFileURL } from 'node:url';

const bundle = process.argv[2]!;
const started = performance.now();
const module = (await import(pathToFileURL(bundle).href)) as { handler: (event: unknown, context: unknown) => Promise<unknown> };
const initMs = performance.now() - started;
for (const name of ['APILAKE_BUCKET', 'APILAKE_IDEMPOTENCY_TABLE']) delete process.env[name];
let error: Error | undefined;
try {
  await module.handler({ source: 'x', scheduledTime: '2024-01-01T00:00:00Z' }, { functionName: 'bench', getRemainingTimeInMillis: () => 60_000 });
} catch (caught) {
  error = caught as Error;
}
const before = performance.now();
const stack = error?.stack ?? '';
const errorStackMs = performance.now() - before;
console.log(JSON.stringify({ initMs, errorStackMs, mapped: /\.ts:\d+:\d+/.test(stack) }));
