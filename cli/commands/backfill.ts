/** `apilake backfill`: replays a range of windows, locally or through the deployed function. */

import { LambdaClient } from '@aws-sdk/client-lambda';
import { findSource } from '../../functions/config/loadSources.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { countWindows, runSource, selectStreams } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { InputError } from '../../functions/errors.js';
import { Redactor } from '../../functions/http/redact.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { describeWindow } from '../../functions/window/TimeWindow.js';
import { backfillRemote } from '../backfill/backfillRemote.js';
import { BackfillProgress } from '../backfill/BackfillProgress.js';
import { formatSummary, formatTable } from '../format.js';
import { interruptSignal } from '../interrupt.js';
import { selectionFromFlags } from '../parseTime.js';
import { resolveFunctionName } from '../remote/stackOutputs.js';
import { EXIT } from '../reportError.js';

/** Flags of `apilake backfill`. */
export interface BackfillOptions {
  readonly from: string;
  readonly to: string;
  readonly stream?: string;
  readonly concurrency: string;
  readonly lake: string;
  readonly remote: boolean;
  readonly force: boolean;
  readonly sources: string;
  readonly function?: string;
  readonly outputs?: string;
  readonly stage?: string;
}

export async function backfillCommand(sourceName: string, options: BackfillOptions): Promise<void> {
  const { definition: source } = await findSource(options.sources, sourceName);
  const concurrency = Number(options.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new InputError(`--concurrency must be a whole number from 1 to 64, got "${options.concurrency}"`);
  // Windows are aligned to each stream's grid: a ragged --from/--to widens to the windows containing them.
  const selection = selectionFromFlags(options, new Date());
  const total = countWindows(source, selectStreams(source, options.stream), selection);

  const redactor = new Redactor();
  const progress = new BackfillProgress({ total, tty: Boolean(process.stdout.isTTY), write: (t) => process.stdout.write(t), redact: (t) => redactor.text(t) });
  const interrupt = interruptSignal('no new windows start; windows in flight finish or are left uncommitted, never half-visible');
  let results: WindowResult[];
  try {
    if (options.remote) {
      const functionName = await resolveFunctionName(source.name, options);
      console.log(`apilake backfill ${source.name} → ${functionName} (${total} windows, ${concurrency} at once)`);
      if (concurrency > 1 && source.rate_limit.requests_per_second) {
        console.log(`  note: each invocation has its own token bucket; the API may see up to ${concurrency} × ${source.rate_limit.requests_per_second} requests/s`);
      }
      results = await backfillRemote({ source, stream: options.stream, selection, functionName, lambda: new LambdaClient({}), concurrency, force: options.force, signal: interrupt.signal, onWindowEnd: (r) => progress.windowDone(r) });
    } else {
      const storage = new FsLakeStorage(options.lake);
      console.log(`apilake backfill ${source.name} → ${storage.location} (${total} windows, ${concurrency} at once, one shared rate limit)`);
      const client = await createSourceClient(source, new EnvSecretProvider(), { redactor });
      results = await runSource({
        source,
        stream: options.stream,
        selection,
        client,
        storage,
        force: options.force,
        windowConcurrency: concurrency,
        signal: interrupt.signal,
        onWindowEnd: (r) => progress.windowDone(r),
      });
    }
  } finally {
    interrupt.dispose();
  }
  progress.finish();
  console.log(formatSummary(source.name, results, options.remote ? 'Lambda' : options.lake));
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length > 0) {
    console.log(`\nfailed windows (run the same command again to retry only these):`);
    console.log(formatTable(['stream', 'window', 'reason'], failed.map((r) => [r.stream, describeWindow(r.window), redactor.text(r.error?.message ?? 'unknown')])));
    process.exitCode = EXIT.windowsFailed;
  }
}
