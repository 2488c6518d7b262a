/**
 * A local lake that says when a raw part's first megabyte reaches it, for tests of pages that
 * land while their body still arrives: an API holding back a page's end until then proves the
 * page landed early, since a client that waited for the whole body would wait for good.
 */

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { FsLakeStorage } from '../../functions/sink/FsLakeStorage.js';

/** A lake in a new folder (`root`) whose storage logs `1 MB stored` to `events`, and calls `onMegabyte`, as a raw part's first megabyte reaches it. */
export async function megabyteLake(events: string[], onMegabyte: () => void = () => undefined): Promise<FsLakeStorage & { root: string }> {
  const root = await mkdtemp(join(tmpdir(), 'apilake-big-'));
  const storage = Object.assign(new FsLakeStorage(root), { root });
  const writeStream = storage.writeStream.bind(storage);
  storage.writeStream = (key: string, body: Readable, options) => {
    // Only the raw part is watched: the Parquet file streams its row groups on its own schedule.
    if (!key.startsWith('raw/')) return writeStream(key, body, options);
    let stored = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        if (stored < 1_000_000 && stored + chunk.length >= 1_000_000) {
          events.push('1 MB stored');
          onMegabyte();
        }
        stored += chunk.length;
        done(null, chunk);
      },
    });
    body.on('error', (error) => tap.destroy(error));
    return writeStream(key, body.pipe(tap), options);
  };
  return storage;
}
