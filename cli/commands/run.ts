/** `apilake run`: the engine over a local lake, with a line per window and a summary. */

import { findSource } from '../../functions/config/loadSources.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { Redactor } from '../../functions/http/redact.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import type { LakeStorage } from '../../functions/sink/LakeStorage.js';
import { S3LakeStorage } from '../../functions/sink/S3LakeStorage.js';
import { formatSummary, formatWindowLine } from '../format.js';
import { selectionFromFlags } from '../parseTime.js';
import { interruptSignal } from '../interrupt.js';
import { EXIT } from '../reportError.js';

/** Flags of `apilake run`. */
export interface RunOptions {
  readonly stream?: string;
  readonly from?: string;
  readonly to?: string;
  readonly lake: string;
  /** Land into this S3 bucket (endpoint and credentials from the environment) instead of `lake`. */
  readonly bucket?: string;
  readonly force: boolean;
  readonly sources: string;
  /** Base URL override, used by `apilake demo` to point at its own server. */
  readonly baseUrl?: string;
}

/** Runs and exits non-zero when a window failed. */
export async function runCommand(sourceName: string, options: RunOptions): Promise<void> {
  const results = await runLocal(sourceName, options);
  if (results.some((r) => r.status === 'failed')) process.exitCode = EXIT.windowsFailed;
}

/** Runs a source into a local lake and prints progress; returns every window's result. */
export async function runLocal(sourceName: string, options: RunOptions): Promise<WindowResult[]> {
  const loaded = await findSource(options.sources, sourceName);
  const source = options.baseUrl ? { ...loaded.definition, base_url: options.baseUrl } : loaded.definition;
  const now = new Date();
  const selection = selectionFromFlags(options, now);
  const storage: LakeStorage = options.bucket ? new S3LakeStorage({ bucket: options.bucket }) : new FsLakeStorage(options.lake);
  const redactor = new Redactor();
  const client = await createSourceClient(source, new EnvSecretProvider(), { redactor });

  const interrupt = interruptSignal('finishing cleanly (windows in flight fail and leave nothing visible)');

  console.log(`apilake run ${source.name} → ${storage.location}`);
  if (selection.kind === 'range' && selection.to.getTime() > now.getTime()) {
    console.log(`  (windows ending after now are not over yet and are left out)`);
  }
  try {
    const results = await runSource({
      source,
      stream: options.stream,
      selection,
      client,
      storage,
      force: options.force,
      signal: interrupt.signal,
      onWindowEnd: (result) => console.log(formatWindowLine(result, (t) => redactor.text(t))),
    });
    if (results.length === 0) console.log('  no complete window in the requested range');
    console.log(formatSummary(source.name, results, storage.location));
    const failed = results.filter((r) => r.status === 'failed');
    if (failed.length > 0) {
      console.error(`${failed.length} window${failed.length === 1 ? '' : 's'} failed; nothing of them is visible. Re-run the same command to retry them.`);
    }
    return results;
  } finally {
    interrupt.dispose();
  }
}
