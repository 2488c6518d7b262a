/**
 * The cassettes shipped in examples/cassettes/ replay green offline against the example sources
 * as they are, and none holds a credential of its recording in any spelling
 * (test/support/exampleCassettes.ts records them).
 */

import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { listCassettes, readCassetteFile } from '../../functions/cassettes/cassetteFiles.js';
import { replayCassette } from '../../functions/cassettes/replayCassette.js';
import { loadSourceFile } from '../../functions/config/loadSources.js';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';
import { EXAMPLE_RECORDINGS, ROOT } from '../support/exampleCassettes.js';
import { secretSpellings } from '../support/secretSpellings.js';

const EXAMPLES = join(ROOT, 'examples');
const CASSETTES = join(EXAMPLES, 'cassettes');

describe.each(EXAMPLE_RECORDINGS.map((r) => [r.source, r] as const))('the cassettes of examples/%s.yaml', (name, recording) => {
  it('replay with no network and no secret to the records, pages and type errors they pin', async () => {
    const source = await loadSourceFile(join(EXAMPLES, `${name}.yaml`));
    const files = await listCassettes(CASSETTES, name);
    expect(files.length).toBe(recording.windows.length);
    const lake = new FsLakeStorage(await mkdtemp(join(tmpdir(), `example-cassettes-${name}-`)));
    for (const file of files) {
      const cassette = await readCassetteFile(file, name);
      const outcome = await replayCassette({ source, cassette, storage: lake });
      expect(outcome.problems, file).toEqual([]);
      expect(outcome.landed!.records, file).toBeGreaterThan(0);
    }
  });

  it('hold no credential of the recording, raw, percent-encoded, JSON-escaped or base64 (Basic)', async () => {
    for (const file of await listCassettes(CASSETTES, name)) {
      const text = gunzipSync(await readFile(file)).toString('utf8');
      const found = recording.credentials.flatMap((credential) => secretSpellings(credential)).filter((form) => text.includes(form));
      expect(found, file).toEqual([]);
      expect(text, file).toMatch(/REDACTED\.secret\./);
    }
  });
});
