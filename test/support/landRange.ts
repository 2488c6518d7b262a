/** Lands a range of windows of a source into a local lake, as `apilake run --from --to` does. */

import type { SourceDefinition } from '../../functions/config/sourceSchema.js';
import { createSourceClient } from '../../functions/engine/createSourceClient.js';
import { runSource } from '../../functions/engine/runSource.js';
import type { WindowResult } from '../../functions/engine/runWindow.js';
import { EnvSecretProvider } from '../../functions/secrets/SecretProvider.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { ManualClock } from './manualClock.js';

/** The windows of `[from, to)` of one stream (or all), landed into `lake`; rate-limit waits take no time. */
export async function landRange(
  source: SourceDefinition,
  lake: string,
  range: { from: string; to: string; stream?: string; env?: Record<string, string>; clock?: ManualClock; random?: () => number },
): Promise<WindowResult[]> {
  const client = await createSourceClient(source, new EnvSecretProvider(range.env ?? {}), { clock: range.clock ?? new ManualClock(Date.now()), random: range.random ?? (() => 0) });
  return runSource({
    source,
    stream: range.stream,
    selection: { kind: 'range', from: new Date(range.from), to: new Date(range.to), completeBy: new Date() },
    client,
    storage: new FsLakeStorage(lake),
  });
}

/** The secret the GitHub examples read, for `env`. */
export const GITHUB_TOKEN_ENV = { APILAKE_SECRET_APILAKE_GITHUB: '{"token":"ghp_test_token_0123456789"}' } as const;
